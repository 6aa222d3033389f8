// Reference detections of face-api's SSD MobileNet-v1 (TF.js, wasm backend) on PNG photos of
// the developer set, for test_ssd_detector. Usage (needs the npm registry once):
//   cd tests/reference && npm install && node ssd_reference.js ../../../shared/faces > ../data/ssd_reference.json
// PNG only: the pixels both sides decode are then identical.
const fs = require('fs');
const path = require('path');
const { PNG } = require('pngjs');
const tf = require('@tensorflow/tfjs');
require('@tensorflow/tfjs-backend-wasm');
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');

const photos = [
  'astronaut_collins/astronaut.png', 'bbt_howard/howard1.png', 'bbt_penny/penny2.png', 'bbt_sheldon/sheldon3.png',
  'bbt_raj/raj3.png', 'bbt_stuart/stuart4.png', 'bbt_stuart/stuart5.png', 'bbt_leonard/leonard1.png',
  'julia_roberts/Julia_Roberts_crop.png', 'alex_lacamoire/alex-lacamoire.png',
];
const rawFor = new Set(['astronaut_collins/astronaut.png', 'bbt_stuart/stuart5.png']);

function readRgb(file) {
  const png = PNG.sync.read(fs.readFileSync(file));  // RGBA, 8 bits per channel after decoding
  const rgb = new Int32Array(png.width * png.height * 3);
  for (let i = 0; i < png.width * png.height; i++)
    for (let c = 0; c < 3; c++) rgb[3 * i + c] = png.data[4 * i + c];
  return tf.tensor3d(rgb, [png.height, png.width, 3], 'int32');
}

(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  const modelDir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
  const net = faceapi.nets.ssdMobilenetv1;
  const out = { generator: `face-api ${faceapi.version}, tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}`, min_confidence: 0.3, photos: [] };
  for (const rel of photos) {
    const image = readRgb(path.join(process.argv[2], rel));
    const detections = await net.locateFaces(image, { minConfidence: 0.3 });
    const entry = { photo: rel, width: image.shape[1], height: image.shape[0],
      detections: detections.map((d) => ({ score: d.score, box: [d.box.x, d.box.y, d.box.width, d.box.height] })) };
    if (image.shape[0] <= 200) {
      // Close-ups fill the frame, where the detector looks for faces with some context: the same
      // photo with a black border of half its size on every side.
      const pad = Math.round(image.shape[0] / 2);
      const padded = tf.pad(image, [[pad, pad], [pad, pad], [0, 0]]);
      const d = await net.locateFaces(padded, { minConfidence: 0.3 });
      entry.border = pad;
      entry.bordered_detections = d.map((x) => ({ score: x.score, box: [x.box.x, x.box.y, x.box.width, x.box.height] }));
      padded.dispose();
    }
    if (rawFor.has(rel)) {
      const input = await faceapi.toNetInput(image);
      const { boxes, scores } = net.forwardInput(input);
      const b = boxes[0].arraySync(), s = Array.from(scores[0].dataSync());
      const order = s.map((v, i) => i).sort((i, j) => s[j] - s[i]).slice(0, 100);
      entry.top_anchors = order.map((i) => ({ index: i, score: s[i], box: b[i] }));
    }
    out.photos.push(entry);
    image.dispose();
  }
  process.stdout.write(JSON.stringify(out, null, 1) + '\n');
})();
