// Build-time stand-in for the parse-json package inside the CLI bundle.
// cosmiconfig parses package.json of the working directory (its "meta config")
// on every start; parse-json's pretty errors pull in @babel/code-frame, which
// costs ~10 ms per command. JSON.parse gives the same values; lxkit's own JSON
// loader adds line and column to errors for toolkit config files.
'use strict';
module.exports = function parseJson(text) {
  return JSON.parse(text);
};
