#!/usr/bin/env node
// A training script run the W&B-agent way: hpo starts it once per trial as
//   node train.mjs --lr=0.01 --batch_size=32 --epochs=9
// and reads one JSON line per epoch from stdout. Anything else it prints is ignored.
// HPO_TRIAL_ID, HPO_EXPERIMENT, HPO_SEED and HPO_TRIAL_DIR are in its environment.
const args = {};
for (const arg of process.argv.slice(2)) {
  const m = /^--([^=]+)=(.*)$/s.exec(arg);
  if (m) args[m[1]] = m[2];
}
const lr = Number(args.lr ?? 0.01);
const batchSize = Number(args.batch_size ?? 32);
const epochs = Number(args.epochs ?? 5);
const seed = Number(process.env.HPO_SEED ?? 1);

console.log(`training trial ${process.env.HPO_TRIAL_ID} with lr=${lr}, batch_size=${batchSize}`);
for (let epoch = 1; epoch <= epochs; epoch++) {
  await new Promise((r) => setTimeout(r, 50)); // stands in for an epoch of real work
  // A made-up loss curve: best near lr = 0.01 and batch size 64, improving with epochs.
  const floor = (Math.log10(lr) + 2) ** 2 / 4 + Math.abs(Math.log2(batchSize / 64)) / 10;
  const noise = (((seed * 9301 + epoch * 49297) % 233280) / 233280 - 0.5) * 0.01;
  const validation_loss = floor + 1 / (epoch + 1) + noise;
  console.log(JSON.stringify({ epoch, validation_loss, train_loss: validation_loss * 0.9 }));
}
