// Compiled (never run) by `tsc --noEmit --strict` in CI against the
// installed package: the types must accept what the README shows and
// give each result its type.

import { ControlPlaneError, Doublure, StartError, connect, findBinary, start, toFlags } from 'doublure';
import type { Clock, JournalEntry, NamespaceInfo } from 'doublure';

async function main(): Promise<void> {
  const server: Doublure = await start({ generateLogoraUsers: 10, seed: 1, corsOrigin: ['http://localhost:3000'], startupTimeout: 5000 });
  const other: Doublure = await connect('http://127.0.0.1:8080', { adminToken: 'x', timeout: 1000 });
  const space: Doublure = server.namespace('team-a');
  const url: string = space.url;
  const name: string | null = space.name;
  await space.reset();
  const clock: Clock = await space.setClock(new Date(), { frozen: false });
  const moved: Clock = await space.advance(7201);
  const token: string = await space.token({ clientId: 'API_KEY', scope: 'public' });
  const signed: string = await space.sign('/api/user/', { orig: 'demo', email: 'fred@example.net' });
  const id: number = await space.fault({ path: '/api/v1/users', status: 503, count: 2 });
  const entries: JournalEntry[] = await space.requests({ path: '/api/v1/users', status: 401, since: new Date(), limit: 5 });
  const listed: NamespaceInfo[] = await server.namespaces();
  const dropped: boolean = await space.drop();
  const status: number | string | null = await server.stop();
  const flags: string[] = toFlags({ journalSize: 3 });
  const binary: string = findBinary();
  try {
    await other.control('PATCH', 'logora/users/21', { city: 'Lyon' });
  } catch (error) {
    if (error instanceof ControlPlaneError) {
      const detail: string = error.detail;
      const problems: string[] = error.problems;
      console.log(error.status, detail, problems);
    } else if (error instanceof StartError) {
      console.log(error.exitCode, error.output);
    }
  }
  console.log(url, name, clock.now, moved.frozen, token, signed, id, entries[0]?.outcome, listed, dropped, status, flags, binary);
}

void main();
