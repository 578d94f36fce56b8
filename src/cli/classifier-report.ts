/**
 * For models with a classifier (the semi-supervised VAE's q(y | x)): its accuracy
 * and confusion matrix on the test set, and the report's confusion.svg.
 */
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import type { Dataset } from '../data/index.js'
import { programArgs } from './data.js'
import { confusionSvg, writeFileAtomic } from './render/index.js'
import type { Figure } from './render/index.js'
import type { Session } from './session.js'

/** A classifier's score on a dataset: accuracy in [0, 1], and confusion[i][j] = points of class i predicted j. */
export interface ClassifierScore {
  readonly accuracy: number
  readonly confusion: readonly (readonly number[])[]
  readonly size: number
}

/** Images classified per batch (bounded memory on 10,000 test images). */
const BATCH = 500

/**
 * Runs the session's classifier over `ds` in batches of 500 (the model's input preprocessing):
 * accuracy and confusion matrix; undefined when the model has no classifier.
 *
 * @example const score = scoreClassifier(session, data.test)   // { accuracy: 0.81, confusion, size: 10000 }
 */
export const scoreClassifier = (s: Session, ds: Dataset): ClassifierScore | undefined => {
  const classify = s.model.classify
  if (classify === undefined) return undefined
  const k = ds.numClasses
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0))
  const truth = ds.labels.dataSync()
  for (let start = 0; start < ds.size; start += BATCH) {
    const count = Math.min(BATCH, ds.size - start)
    const args = programArgs(s.model, ds, s.entry.binary, start, count)
    try {
      const predicted = tf.tidy(() => tf.argMax(classify(args[0]!), -1).dataSync())
      predicted.forEach((p, i) => { confusion[truth[start + i]!]![p]! += 1 })
    } finally {
      tf.dispose(args)
    }
  }
  const correct = confusion.reduce((a, row, i) => a + row[i]!, 0)
  return { accuracy: correct / Math.max(ds.size, 1), confusion, size: ds.size }
}

/**
 * confusion.svg for the report and the detail line giving the test accuracy of q(y | x); undefined
 * for models without a classifier.
 *
 * @example const c = await classifierFigure('runs/ssvae', session, data.test)
 */
export const classifierFigure = async (dir: string, s: Session, test: Dataset): Promise<{ readonly figure: Figure; readonly detail: readonly [string, string] } | undefined> => {
  const score = scoreClassifier(s, test)
  if (score === undefined) return undefined
  const pct = `${(100 * score.accuracy).toFixed(2)}%`
  const svg = confusionSvg(score.confusion, { title: `q(y | x) on ${score.size} test images`, ...(test.classNames === undefined ? {} : { classNames: test.classNames }) })
  await writeFileAtomic(path.join(dir, 'confusion.svg'), svg)
  return {
    figure: { title: 'Confusion matrix of q(y | x)', file: 'confusion.svg', caption: `The classifier q(y | x) on the ${score.size} test images: test accuracy ${pct}. Rows are true classes, columns predictions; each row's recall on the right.` },
    detail: [`test accuracy of q(y | x) (${score.size} images)`, pct],
  }
}
