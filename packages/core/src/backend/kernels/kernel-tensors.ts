import * as tf from '@tensorflow/tfjs-core';

/**
 * Runs `compute` on the kernel's inputs as ordinary tensors, with tfjs' public ops (which
 * dispatch to the active backend), and hands the result back as a kernel output.
 *
 * Everything `compute` allocates is released; the result's data stays alive because its
 * reference count is raised by one before the wrapping tensor is disposed, which is the count the
 * engine's own output tensor takes over (the same pattern tfjs' reshape kernels use).
 */
export function composeKernel<T extends tf.TensorInfo[]>(
  backend: tf.KernelBackend,
  inputs: T,
  compute: (...tensors: { [K in keyof T]: tf.Tensor }) => tf.Tensor,
): tf.TensorInfo {
  const result = tf.tidy(() => {
    const tensors = inputs.map((info) => asTensor(backend, info)) as { [K in keyof T]: tf.Tensor };
    return compute(...tensors);
  });
  backend.incRef(result.dataId);
  const info: tf.TensorInfo = { dataId: result.dataId, shape: result.shape.slice(), dtype: result.dtype };
  result.dispose();
  return info;
}

/** What tfjs passes to a kernel function. */
export interface KernelArguments {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
}

/**
 * A kernel function built with `composeKernel`: `compute` gets the inputs named `inputNames` as
 * tensors and the kernel's attributes, typed as the kernel declares them.
 */
export function composedKernel<Name extends string, Attributes>(
  inputNames: readonly Name[],
  compute: (inputs: Record<Name, tf.Tensor>, attributes: Attributes) => tf.Tensor,
): (args: KernelArguments) => tf.TensorInfo {
  return ({ inputs, backend, attrs }) =>
    composeKernel(
      backend,
      inputNames.map((name) => inputs[name]!),
      (...tensors) =>
        compute(
          Object.fromEntries(inputNames.map((name, i) => [name, tensors[i]])) as Record<Name, tf.Tensor>,
          attrs as unknown as Attributes,
        ),
    );
}

/** Views a kernel input as a tensor; a bare TensorInfo gets a wrapper that `tidy` releases. */
function asTensor(backend: tf.KernelBackend, info: tf.TensorInfo): tf.Tensor {
  if (info instanceof tf.Tensor) return info as tf.Tensor;
  // The wrapper holds its own reference, so disposing it leaves the caller's data intact.
  backend.incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info, backend);
}
