// Parses each AsyncAPI document given on the command line with AsyncAPI's own parser
// (@asyncapi/parser, the library behind `asyncapi validate`) and prints every diagnostic.
// Exit status 1 when a document does not parse or has an error or a warning.
import { Parser, fromFile } from '@asyncapi/parser';

const SEVERITY = ['error', 'warning', 'info', 'hint'];
const parser = new Parser();
let failed = 0;
for (const file of process.argv.slice(2)) {
  const { document, diagnostics } = await fromFile(parser, file).parse();
  const serious = diagnostics.filter((d) => d.severity <= 1);
  for (const d of diagnostics) {
    const where = d.path.length ? ` at ${d.path.join('.')}` : '';
    console.log(`${file}: ${SEVERITY[d.severity]} ${d.code}: ${d.message}${where}`);
  }
  if (!document || serious.length) failed += 1;
  else console.log(`${file}: valid AsyncAPI ${document.version()}`);
}
process.exit(failed ? 1 : 0);
