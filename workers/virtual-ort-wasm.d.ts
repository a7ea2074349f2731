// `virtual:ort-wasm` (tools/vite/ortWasm.ts): onnxruntime-web's WebAssembly binaries as the build ships them.
declare module 'virtual:ort-wasm' {
  interface OrtWasmFile {
    /** The binary's URL in the build (resolve it against the worker's location). */
    url: string;
    /** Size in bytes, pinned at build time. */
    bytes: number;
    /** SHA-256 (lower-case hex), pinned at build time. */
    sha256: string;
  }
  /** The binary of `onnxruntime-web/webgpu` (WebGPU and WASM execution providers). */
  export const webgpu: OrtWasmFile;
  /** The binary of `onnxruntime-web/wasm` (WASM only). */
  export const wasm: OrtWasmFile;
}
