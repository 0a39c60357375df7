import { v7 } from "uuid";

/** Time-ordered UUIDv7: sorts by creation, so ids double as pagination cursors. */
export const newId = (): string => v7();
