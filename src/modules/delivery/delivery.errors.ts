import { defineErrors } from "../../http/problem.js";

export const eventErrors = defineErrors({ unknownCursor: [404, "events.unknown_cursor"] });
