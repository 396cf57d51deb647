// A TF.js model of your own, tuned by hpo: a small MLP that tells two noisy concentric circles apart.
// `hpo search sweep.yaml` imports this module in each trial thread and calls run() once per trial.
// The model is built with ctx.tf: hpo's own @tensorflow/tfjs, on the backend the worker runs (wasm,
// tensorflow, ...); a module's own `import '@tensorflow/tfjs'` could load a second copy of tfjs.
import { defineTask } from 'hpo';

/** n points on two noisy circles (radius 1: class 0, radius 2: class 1), seeded. */
function circles(tf, n, seed) {
  let s = seed >>> 0 || 1;
  const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const xs = [];
  const ys = [];
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const angle = rand() * 2 * Math.PI;
    const r = 1 + label + (rand() - 0.5) * 0.8;
    xs.push([r * Math.cos(angle), r * Math.sin(angle)]);
    ys.push(label);
  }
  return { x: tf.tensor2d(xs), y: tf.tensor2d(ys, [n, 1]) };
}

export default defineTask({
  name: 'circles-mlp',
  description: 'two-layer MLP on noisy concentric circles',
  metrics: ['val_loss', 'val_acc'],
  params: {
    units: { type: 'integer', gt: 0, le: 256, default: 16 },
    learning_rate: { type: 'number', gt: 0, default: 0.01 },
    activation: { type: 'choice', choices: ['relu', 'tanh', 'sigmoid'], default: 'relu' },
    epochs: { type: 'integer', gt: 0, default: 5 },
  },
  async run(spec, ctx) {
    const { tf } = ctx;
    const { units, learning_rate, activation, epochs } = spec.params;
    const train = circles(tf, 256, 1); // the data set is fixed; spec.seed varies the weights
    const val = circles(tf, 128, 2);
    const model = tf.sequential();
    const init = (k) => tf.initializers.glorotUniform({ seed: spec.seed + k });
    model.add(tf.layers.dense({ inputShape: [2], units, activation, kernelInitializer: init(0) }));
    model.add(tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: init(1) }));
    model.compile({
      optimizer: tf.train.adam(learning_rate),
      loss: 'binaryCrossentropy',
      metrics: ['accuracy'],
    });
    try {
      for (let epoch = 1; epoch <= epochs; epoch++) {
        const h = await model.fit(train.x, train.y, {
          epochs: 1,
          batchSize: 32,
          shuffle: false,
          validationData: [val.x, val.y],
          verbose: 0,
        });
        const metrics = { val_loss: h.history.val_loss[0], val_acc: h.history.val_acc[0] };
        if ((await ctx.reportEpoch(epoch, metrics, { images: 256, backend: tf.getBackend() })) === 'stop')
          break;
      }
    } finally {
      model.dispose();
      tf.dispose([train.x, train.y, val.x, val.y]);
    }
  },
});
