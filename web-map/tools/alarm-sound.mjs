// The command centre's alarm sound, made here rather than recorded (nothing to license, nothing fetched):
// two tones, 880 Hz then 660 Hz, 180 ms each with 10 ms fades, twice, as 16-bit PCM mono at 22,050 Hz
// in a RIFF/WAV file. The same bytes on every build; `build.mjs` writes it to `sounds/alarm.wav`.

const RATE = 22050;
const TONES = [[880, 0.18], [0, 0.04], [660, 0.18], [0, 0.12], [880, 0.18], [0, 0.04], [660, 0.18]];
const FADE_S = 0.01;
const LOUDNESS = 0.45;

/** The WAV file's bytes. */
export function alarmWav() {
  const samples = [];
  for (const [hz, seconds] of TONES) {
    const n = Math.round(seconds * RATE);
    const fade = Math.round(FADE_S * RATE);
    for (let i = 0; i < n; i += 1) {
      const envelope = Math.min(1, i / fade, (n - 1 - i) / fade);
      const value = hz === 0 ? 0 : Math.sin((2 * Math.PI * hz * i) / RATE) * envelope * LOUDNESS;
      samples.push(Math.round(value * 32767));
    }
  }
  const data = samples.length * 2;
  const wav = Buffer.alloc(44 + data);
  wav.write('RIFF', 0, 'ascii');
  wav.writeUInt32LE(36 + data, 4);
  wav.write('WAVE', 8, 'ascii');
  wav.write('fmt ', 12, 'ascii');
  wav.writeUInt32LE(16, 16); // the fmt chunk's size
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(RATE, 24);
  wav.writeUInt32LE(RATE * 2, 28); // bytes a second
  wav.writeUInt16LE(2, 32); // bytes a frame
  wav.writeUInt16LE(16, 34); // bits a sample
  wav.write('data', 36, 'ascii');
  wav.writeUInt32LE(data, 40);
  samples.forEach((s, i) => wav.writeInt16LE(s, 44 + i * 2));
  return wav;
}
