#!/usr/bin/env node
/**
 * `npm start`: builds what changed (scripts/build-changed.mjs), then runs the server in this same
 * process. One Node.js process instead of a prestart's and then the server's saves a process
 * start, and a restart with nothing changed serves sooner.
 */
import { buildChanged } from "./build-changed.mjs";

buildChanged();
await import("../dist/server.js");
