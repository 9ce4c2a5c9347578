import { writeFileSync } from 'node:fs';
import { composeContract, CompositionError } from '../lib/schema/compose.js';
import { sdlPath } from '../lib/schema/contract.js';

try {
  writeFileSync(sdlPath('supergraph'), composeContract());
  console.log(`wrote ${sdlPath('supergraph')}`);
} catch (error) {
  console.error(error instanceof CompositionError ? error.message : error);
  process.exit(1);
}
