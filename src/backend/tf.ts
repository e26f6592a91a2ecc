/**
 * The one place the suite imports TensorFlow.js from, so every module shares
 * one engine instance and one set of registered kernels.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

export { tf };
export type Tensor = tf.Tensor;
export type Tensor1D = tf.Tensor1D;
export type Tensor2D = tf.Tensor2D;
export type Tensor4D = tf.Tensor4D;
export type Scalar = tf.Scalar;
