// Tiny check harness shared by the consumer scripts: each check runs, prints PASS/FAIL, and the
// process exits 1 if any failed.
let failures = 0;

/** Runs one named check; an exception or a `false` result fails it. */
export async function check(name, body) {
  try {
    const result = await body();
    if (result === false) throw new Error('returned false');
    console.log(`  ok   ${name}${typeof result === 'string' ? `: ${result}` : ''}`);
  } catch (error) {
    failures += 1;
    console.log(`  FAIL ${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Throws with `message` unless `condition` holds. */
export function expect(condition, message) {
  if (!condition) throw new Error(message);
}

/** Exits with the overall status. */
export function finish() {
  console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
  process.exit(failures ? 1 : 0);
}

/** True when every element is finite. */
export function allFinite(values) {
  for (const value of values) if (!Number.isFinite(value)) return false;
  return true;
}
