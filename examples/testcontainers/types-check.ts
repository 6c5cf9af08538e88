// Compiled with `tsc --strict`: doublure/testcontainers's types as a test
// suite uses them.
import { Doublure } from 'doublure';
import { DoublureContainer, StartedDoublureContainer, defaultImage } from 'doublure/testcontainers';

export async function typed(): Promise<number> {
  const image: string = defaultImage();
  const started: StartedDoublureContainer = await new DoublureContainer(image, { journalSize: 100, faultHeader: true })
    .withGenerated({ users: 10, seed: 7 })
    .withFixtures('fixtures')
    .withAdminToken('token')
    .start();
  const url: string = started.url;
  const root: Doublure = started.connect();
  const mine: Doublure = started.namespace('types');
  const token: string = await mine.token({ clientId: 'API_KEY' });
  const signed: string = await mine.sign('/api/user/', { email: 'fred@example.net' });
  const id: number = await mine.fault({ path: '/api/v1/users', status: 503, count: 1 });
  await mine.advance(7201);
  const entries = await mine.requests({ status: 401 });
  await started.stop();
  return url.length + root.url.length + token.length + signed.length + id + entries.length;
}
