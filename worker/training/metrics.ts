/** What the trainer reports. Field names are snake_case: they go out as JSON and into the store as is. */

export interface EpochMetrics {
  /** 1-based. */
  epoch: number;
  /** Mean over training images of the summed cross-entropy of both heads, during the epoch. */
  train_loss: number;
  /** Running accuracy of each head over the epoch's training batches (weights change during the epoch). */
  train_acc_top: number;
  train_acc_bottom: number;
  /** Same loss on the whole validation split after the epoch. */
  val_loss: number;
  val_acc_top: number;
  val_acc_bottom: number;
  /** Mean of the two heads' validation accuracy: the default objective. */
  val_acc: number;
  /** Fraction of validation images with both digits right. */
  val_acc_both: number;
  /** Wall time of the epoch: training plus validation. */
  epoch_seconds: number;
  /** Training images per second (training steps only, evaluation excluded). */
  images_per_s: number;
  /** tf.memory().numTensors after the epoch: flat from epoch 1 on unless something leaks. */
  num_tensors: number;
}

export interface TestMetrics {
  test_loss: number;
  test_acc_top: number;
  test_acc_bottom: number;
  test_acc: number;
  test_acc_both: number;
}

export interface EvalMetrics {
  loss: number;
  accTop: number;
  accBottom: number;
  accBoth: number;
}
