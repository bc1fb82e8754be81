#!/usr/bin/env node
// The `tessera` command. A committed file (not build output) so npm can link it before `tsc -b` has run.
import '../dist/bin.js';
