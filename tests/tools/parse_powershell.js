#!/usr/bin/env node
// Parses PowerShell scripts with tree-sitter-powershell (installed by scripts/install-deps.sh into
// tests/tools/powershell-grammar/node_modules) and fails on any ERROR or MISSING node.
// Usage: node parse_powershell.js SCRIPT... ; exit 0 when every script parses, 1 on a syntax error,
// 2 when the grammar is not installed or a file cannot be read.
'use strict';
const fs = require('fs');
const path = require('path');

const modules = path.join(__dirname, 'powershell-grammar', 'node_modules');
let Parser, PowerShell;
try {
  Parser = require(path.join(modules, 'tree-sitter'));
  PowerShell = require(path.join(modules, 'tree-sitter-powershell'));
} catch (error) {
  console.error(`parse_powershell: the grammar is not installed in ${modules} (run scripts/install-deps.sh): ${error.message}`);
  process.exit(2);
}
const parser = new Parser();
parser.setLanguage(PowerShell);

function problems(root) {
  const found = [];
  const stack = [root];
  while (stack.length) {
    const node = stack.pop();
    if (node.isError || node.type === 'ERROR' || node.isMissing) {
      const where = `${node.startPosition.row + 1}:${node.startPosition.column + 1}`;
      found.push(`${where}: ${node.isMissing ? 'MISSING ' + node.type : 'ERROR'} near ${JSON.stringify(node.text.slice(0, 80))}`);
    }
    for (let i = node.childCount - 1; i >= 0; --i) stack.push(node.child(i));
  }
  return found;
}

let failed = 0;
const files = process.argv.slice(2);
for (const file of files) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    console.error(`parse_powershell: ${file}: ${error.message}`);
    process.exit(2);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);  // the UTF-8 BOM marks the encoding; it is not script text
  const tree = parser.parse(text, null, { bufferSize: Math.max(32 * 1024, 4 * text.length + 1024) });
  const found = problems(tree.rootNode);
  if (found.length || tree.rootNode.hasError) {
    ++failed;
    console.log(`${file}: ${found.length} syntax error(s)`);
    for (const line of found.slice(0, 20)) console.log(`  ${file}:${line}`);
  }
}
console.log(`parse_powershell: ${files.length} script(s), ${failed} with syntax errors`);
process.exit(failed ? 1 : 0);
