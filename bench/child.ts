/**
 * Starts `role-child.js` (Outport roles in their own process) and watches its memory from outside: the kernel's
 * high-water mark (VmHWM in /proc/<pid>/status) is the peak resident set over the process's whole life, so a
 * short spike between two samples is not missed.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface RoleChild {
  pid: number;
  apiUrl?: string;
  /** Peak resident set so far, MiB. */
  peakRssMiB(): number;
  /** `process.memoryUsage()` inside the child at the largest resident set it sampled (MiB per field). */
  peakBreakdownMiB(): Promise<Record<string, number> | undefined>;
  stop(): Promise<void>;
}

export interface RoleChildOptions {
  env: Record<string, string>;
  /** Write a V8 CPU profile of the child here (`node --cpu-prof`). */
  cpuProfile?: { dir: string; name: string };
}

export async function startRoleChild(o: RoleChildOptions): Promise<RoleChild> {
  const execArgv = o.cpuProfile ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfile.dir, '--cpu-prof-name', o.cpuProfile.name] : [];
  const child = fork(path.join(__dirname, 'role-child.js'), [], {
    env: { ...process.env, ...o.env },
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const apiUrl = await new Promise<string | undefined>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the Outport child did not boot within 120 s')), 120_000);
    child.once('message', (m: { type?: string; apiUrl?: string }) => {
      clearTimeout(timer);
      if (m?.type === 'ready') resolve(m.apiUrl);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the Outport child exited during boot (code ${code})`));
    });
  });
  let sampledPeak = 0;
  const sample = () => {
    sampledPeak = Math.max(sampledPeak, readStatusKiB(child.pid!, 'VmRSS') ?? 0);
  };
  const sampler = setInterval(sample, 100);
  return {
    pid: child.pid!,
    apiUrl,
    peakRssMiB() {
      sample();
      return Math.max(readStatusKiB(child.pid!, 'VmHWM') ?? 0, sampledPeak) / 1024;
    },
    peakBreakdownMiB() {
      return new Promise((resolve) => {
        const timer = setTimeout(() => done(undefined), 2000);
        const onMessage = (m: { type?: string; peak?: Record<string, number> }) => {
          if (m?.type === 'memory') done(m.peak);
        };
        const done = (peak: Record<string, number> | undefined) => {
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(peak && Object.fromEntries(Object.entries(peak).map(([k, v]) => [k, Math.round(v / 1024 / 1024)])));
        };
        child.on('message', onMessage);
        child.send({ type: 'memory' });
      });
    },
    async stop() {
      clearInterval(sampler);
      await stopChild(child);
    },
  };
}

function readStatusKiB(pid: number, field: string): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.send({ type: 'stop' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}
