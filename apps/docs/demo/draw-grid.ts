/**
 * Draws an NHWC batch in [-1, 1] (single channel or RGB) as a square-ish grid on `canvas`, each
 * image scaled up by `scale` with nearest-neighbour pixels.
 */
export function drawGrid(canvas: HTMLCanvasElement, data: Float32Array, shape: readonly number[], scale: number): void {
  const [batch, height, width, channels] = shape;
  const columns = Math.ceil(Math.sqrt(batch));
  const rows = Math.ceil(batch / columns);
  const gap = 2;
  const gridWidth = columns * (width + gap) - gap;
  const gridHeight = rows * (height + gap) - gap;
  const image = new ImageData(gridWidth, gridHeight);
  image.data.fill(255);
  for (let item = 0; item < batch; item += 1) {
    const left = (item % columns) * (width + gap);
    const top = Math.floor(item / columns) * (height + gap);
    for (let y = 0; y < height; y += 1) {
      for (let x = 0; x < width; x += 1) {
        const source = ((item * height + y) * width + x) * channels;
        const target = ((top + y) * gridWidth + left + x) * 4;
        for (let c = 0; c < 3; c += 1) {
          const value = data[source + (channels === 1 ? 0 : c)];
          image.data[target + c] = Math.round(Math.min(1, Math.max(0, (value + 1) / 2)) * 255);
        }
        image.data[target + 3] = 255;
      }
    }
  }
  const scratch = document.createElement('canvas');
  scratch.width = gridWidth;
  scratch.height = gridHeight;
  scratch.getContext('2d')!.putImageData(image, 0, 0);
  canvas.width = gridWidth * scale;
  canvas.height = gridHeight * scale;
  const context = canvas.getContext('2d')!;
  context.imageSmoothingEnabled = false;
  context.drawImage(scratch, 0, 0, canvas.width, canvas.height);
}
