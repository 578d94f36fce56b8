/**
 * Rendering for the `tfppl` command: PNG figures from plain `Float32Array`
 * images, SVG charts, the HTML report page, and atomic file writes. No
 * TensorFlow.js here: callers read their tensors into typed arrays first.
 *
 * @example
 * import { samplesPng, writeFileAtomic } from './render/index.js'
 * await writeFileAtomic('out/samples.png', samplesPng({ data: await decoded.data() as Float32Array, height: 28, width: 28 }))
 */
export { NAN_RGB, encodePng, grayByte, grayToRgba, type GrayImage, type RgbaImage } from './png.js'
export { imageGrid, splitImages, tileCells, type GridLayout, type ImageGridOptions } from './grid.js'
export { classesPng, codebookPng, reconstructionsPng, samplesPng, traversalPng, type FigureOptions, type ImageBatch } from './figures.js'
export { escapeXml, formatTick, niceTicks, type Ticks } from './svg-common.js'
export { PALETTE, curvesSvg, type CurvesOptions, type Series } from './svg-curves.js'
export { histogramSvg, type HistogramOptions } from './histogram.js'
export { confusionSvg, type ConfusionOptions } from './confusion.js'
export { reportHtml, type EpochMetrics, type Figure, type ReportInput } from './report-html.js'
export { OutputError, writeFileAtomic } from './atomic.js'
