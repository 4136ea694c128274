// `node --import ./test/support/trace-imports.mjs ...` records every module URL the program
// resolves into $MESH_TRACE_FILE, so tests can prove what a command does not load.
import { register } from 'node:module';
register('./trace-imports-hooks.mjs', import.meta.url);
