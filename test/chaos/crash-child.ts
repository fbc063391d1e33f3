// A Muster service in its own process for crash tests: starts from the environment and runs due jobs when its parent writes "run"; it never runs a background worker.
import { startService } from '../../src/main.js';
import { runDue } from '../../src/app/jobs.js';
import { createInterface } from 'node:readline';

const svc = await startService({ ...process.env, PORT: '0', HOST: '127.0.0.1', MUSTER_WORKER: 'off' });
process.stdout.write(`ready ${svc.url}\n`);
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() === 'run') {
    const summary = await runDue(svc.runtime.ctx);
    const tenant = process.env.MUSTER_TENANT ?? 'default';
    const eventJobs = await svc.runtime.store.listJobs(tenant, { status: ['pending', 'running'], kind: 'event-sync' });
    const sessionIds = (await svc.runtime.store.listPrograms(tenant)).length > 0 ? (await Promise.all((await svc.runtime.store.listPrograms(tenant)).map((p) => svc.runtime.store.listSessions(tenant, p.id)))).flat().map((s) => s.id) : [];
    const recorded = (await svc.runtime.store.listSessionEvents(tenant, sessionIds)).map((e) => e.external_id);
    process.stdout.write(`done ${JSON.stringify({ ...summary, eventJobsLeft: eventJobs.length, recorded })}\n`);
  } else if (line.trim() === 'quit') {
    await svc.close();
    process.exit(0);
  }
}
