/** `npm run demo`: api + worker on embedded defaults. Arrives with the demo issue. */
process.stderr.write('erp-bridge demo: not yet available; use `npm test` meanwhile.\n');
process.exitCode = 1;
