/**
 * The error of a program's sites: duplicate names, missing sites, bad
 * observations, shapes that do not fit their plates.
 */
import { TfpplError } from '../errors.js'

/** A site-level error in a program; the message names the site (and plate) and the fix. */
export class SiteError extends TfpplError {}
