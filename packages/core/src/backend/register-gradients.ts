// tfjs-core ships its gradient functions as extensionless ESM that plain Node cannot resolve;
// the build bundles this import (tsup `noExternal`), so it works in Node and in bundlers alike.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
