/**
 * Class-fidelity judges for Fashion-MNIST CVAEs, trained on the real training images
 * (softmax cross-entropy, Adam 1e-3, batch 128):
 *   grey   784-256-10 ReLU MLP, 5 epochs on the grey images; labels the samples' Bernoulli means;
 *   binary the same MLP on the binarised images (the data the CVAE models); labels binary draws x ~ Bernoulli(mean);
 *   conv   3×3/2 conv 32, 3×3/2 conv 64, ReLU, dense 10, `convEpochs` epochs on the grey images; labels the means.
 * Each judge's per-class accuracy on the real test images is its own accuracy; its accuracy on the
 * binarised test images (the data the CVAE models) is the ceiling for samples: a sampler whose samples
 * were distributed like that data would score about it.
 */
import * as tf from '@tensorflow/tfjs-core'
import { binarize, convEncoder, flatten, mlp } from 'tfppl'
import type { fashionMnist, ImageModel } from 'tfppl'

type Split = ReturnType<typeof fashionMnist>['train']
type Net = ReturnType<typeof mlp>
export type View = 'grey' | 'binary' | 'conv'
export interface Judge { readonly view: View; readonly net: Net; readonly accuracy: number; readonly realPerClass: number[]; readonly binarisedPerClass: number[] }
export interface Verdict { readonly classifierAccuracy: number; readonly realPerClass: number[]; readonly binarisedPerClass: number[]; readonly fidelity: number; readonly perClass: number[] }

const bin = binarize.fixed(0.5)
const pct = (v: readonly number[]): string => v.map((x) => (100 * x).toFixed(0)).join(' ')
const mean = (v: readonly number[]): number => v.reduce((a, b) => a + b) / v.length

/** Trains `net` for `epochs` on `images` (freed after) with labels `labels`. */
const fit = (net: Net, images: tf.Tensor, labels: tf.Tensor1D, epochs: number): Net => {
  const opt = tf.train.adam(1e-3), y = tf.oneHot(labels, 10), n = images.shape[0]!
  for (let e = 0; e < epochs; e++) {
    for (let i = 0; i < n; i += 128) {
      tf.tidy(() => {
        const xb = tf.slice(images, i, Math.min(128, n - i)), yb = tf.slice(y, i, Math.min(128, n - i))
        opt.minimize(() => tf.losses.softmaxCrossEntropy(yb, net.apply(xb)) as tf.Scalar, false, [...net.variables])
      })
    }
  }
  y.dispose(); opt.dispose(); images.dispose()
  return net
}

/** Per-class accuracy of `net` on flat images [N, 784] (reshaped for the conv judge), in batches of 1,000. */
export const perClassAccuracy = (net: Net, view: View, images: tf.Tensor, labels: tf.Tensor1D): number[] => {
  const right = new Array<number>(10).fill(0), count = new Array<number>(10).fill(0)
  const truth = labels.dataSync()
  for (let i = 0; i < images.shape[0]!; i += 1000) {
    const n = Math.min(1000, images.shape[0]! - i)
    const guess = tf.tidy(() => { const xb = tf.slice(images, i, n); return tf.argMax(net.apply(view === 'conv' ? tf.reshape(xb, [n, 28, 28, 1]) : xb), -1) })
    guess.dataSync().forEach((g, j) => { const c = truth[i + j]!; count[c]!++; if (g === c) right[c]!++ })
    guess.dispose()
  }
  return right.map((r, k) => r / Math.max(1, count[k]!))
}

/** The judges (conv only when `convEpochs` > 0), each with its accuracy on the real test images. */
export const trainJudges = (train: Split, test: Split, convEpochs: number): Judge[] => {
  const views: View[] = convEpochs > 0 ? ['grey', 'binary', 'conv'] : ['grey', 'binary']
  return views.map((view) => {
    const images = (d: Split) => tf.tidy(() => view === 'binary' ? bin(flatten(d)) : flatten(d))
    const net = view === 'conv'
      ? fit(convEncoder({ channels: 1, outDim: 10, seed: 99 }), tf.tidy(() => tf.reshape(flatten(train), [-1, 28, 28, 1])), train.labels as tf.Tensor1D, convEpochs)
      : fit(mlp({ sizes: [784, 256, 10], activation: 'relu', seed: 99 }), images(train), train.labels as tf.Tensor1D, 5)
    const [realPerClass, binarisedPerClass] = [flatten(test), tf.tidy(() => bin(flatten(test)))].map((x) => {
      const perClass = perClassAccuracy(net, view, x, test.labels as tf.Tensor1D)
      x.dispose()
      return perClass
    }) as [number[], number[]]
    const accuracy = mean(view === 'binary' ? binarisedPerClass : realPerClass)
    console.log(`${view} judge: test accuracy ${(100 * accuracy).toFixed(1)}% (per class: ${pct(view === 'binary' ? binarisedPerClass : realPerClass)}); on the binarised test images ${(100 * mean(binarisedPerClass)).toFixed(1)}% (${pct(binarisedPerClass)})`)
    return { view, net, accuracy, realPerClass, binarisedPerClass }
  })
}

/** Class fidelity: the share of `n` class-conditional samples per class that `judge` assigns to the requested class. */
export const fidelityOf = (model: ImageModel, judge: Judge, n: number, seed: number): Verdict => {
  const perClass = Array.from({ length: 10 }, (_, k) => tf.tidy(() => {
    const means = tf.reshape(model.sample(n, seed + k + 1, k), [n, 784])
    const samples = judge.view !== 'binary' ? means : tf.cast(tf.less(tf.randomUniform([n, 784], 0, 1, 'float32', seed + 100 + k), means), 'float32')
    return perClassAccuracy(judge.net, judge.view, samples, tf.fill([n], k, 'int32') as tf.Tensor1D)[k]!
  }))
  const fidelity = mean(perClass)
  console.log(`  ${judge.view}: class fidelity (${n} per class) ${(100 * fidelity).toFixed(1)}% (per class: ${pct(perClass)})`)
  return { classifierAccuracy: judge.accuracy, realPerClass: judge.realPerClass, binarisedPerClass: judge.binarisedPerClass, fidelity, perClass }
}

/** Every judge's verdict on `model`, keyed by view. */
export const verdicts = (model: ImageModel, judges: readonly Judge[], n: number, seed: number): Partial<Record<View, Verdict>> =>
  Object.fromEntries(judges.map((j) => [j.view, fidelityOf(model, j, n, seed)]))
