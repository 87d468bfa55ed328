// Whether a process recorded in a pid or lock file still runs. Signal 0 checks without signalling;
// EPERM means it exists under another user, so only ESRCH says it is gone.
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
