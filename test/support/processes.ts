import { spawn, type ChildProcess } from 'node:child_process';

/** Child processes started by a test, stopped together at the end. */
export class Processes {
  private readonly children: ChildProcess[] = [];

  /**
   * Runs an entry point as the npm scripts do (a compiled `dist/…js` with node, as `npm start`;
   * TypeScript with tsx, as the tools) and resolves with the first capture group of
   * `readyPattern` once it appears in the output.
   */
  start(script: string, args: string[], env: Record<string, string>, readyPattern: RegExp): Promise<string> {
    const entry = script.endsWith('.js') ? [script] : ['node_modules/tsx/dist/cli.mjs', script];
    const child = spawn(process.execPath, [...entry, ...args], {
      env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.push(child);
    return new Promise((resolve, reject) => {
      let output = '';
      // Generous: several subgraph processes start at once, each migrating its own database, on 2 cores.
      const timer = setTimeout(() => reject(new Error(`${script} did not start:\n${output}`)), 120_000);
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        const match = readyPattern.exec(output);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${script} exited with ${code}:\n${output}`));
      });
    });
  }

  /** Runs a script to completion and returns its standard output. */
  run(script: string, args: string[], env: Record<string, string>): Promise<string> {
    const child = spawn(process.execPath, ['node_modules/tsx/dist/cli.mjs', script, ...args], {
      env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Promise((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${script} exited with ${code}: ${stderr}`))));
    });
  }

  async stopAll(): Promise<void> {
    for (const child of this.children) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(this.children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));
  }
}
