/** Registers tfjs' pure-JavaScript cpu backend (always available). */
export async function loadCpu(): Promise<string> {
  await import('@tensorflow/tfjs-backend-cpu');
  return 'cpu';
}
