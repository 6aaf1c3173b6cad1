/**
 * Reads a top-level JSON array from a byte stream one element at a time, so that a list endpoint answering
 * 100,000 probes in one body (a server that ignores `limit`) never needs the whole body in memory.
 * Each element's text is cut out by tracking nesting and strings, then handed to JSON.parse.
 */
import { StringDecoder } from 'node:string_decoder';

export class MalformedJsonError extends Error {}

const OPEN_BRACKET = 0x5b; // [
const CLOSE_BRACKET = 0x5d; // ]
const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACE = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const COMMA = 0x2c; // ,

export class JsonArraySplitter {
  private started = false;
  private finished = false;
  private depth = 0; // nesting inside the top-level array
  private inString = false;
  private escaped = false;
  private pending = ''; // text of the element being read, across chunks
  private sawElement = false;

  /** Feeds the next piece of text; returns the elements completed by it, parsed. */
  push(text: string): unknown[] {
    const out: unknown[] = [];
    let from = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.finished) {
        if (!isSpace(c)) throw new MalformedJsonError('unexpected text after the end of the array');
        continue;
      }
      if (!this.started) {
        if (isSpace(c)) continue;
        if (c !== OPEN_BRACKET) throw new MalformedJsonError('expected a JSON array');
        this.started = true;
        from = i + 1;
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
        continue;
      }
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth++;
      else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && this.depth > 0) this.depth--;
      else if (this.depth === 0 && (c === COMMA || c === CLOSE_BRACKET)) {
        this.emit(this.pending + text.slice(from, i), c === CLOSE_BRACKET, out);
        this.pending = '';
        from = i + 1;
        if (c === CLOSE_BRACKET) this.finished = true;
      }
    }
    if (this.started && !this.finished) this.pending += text.slice(from);
    return out;
  }

  /** Call at the end of the body: throws if the array was cut short. */
  end(): void {
    if (!this.finished) throw new MalformedJsonError(this.started ? 'the array is cut short' : 'the body is empty');
  }

  private emit(raw: string, closing: boolean, out: unknown[]): void {
    const textOfElement = raw.trim();
    if (textOfElement === '') {
      // `[]` is an empty array; an empty slot anywhere else (`[1,,2]`, `[1,]`) is not JSON
      if (closing && out.length === 0 && !this.sawElement) return;
      throw new MalformedJsonError('an empty element in the array');
    }
    try {
      out.push(JSON.parse(textOfElement));
      this.sawElement = true;
    } catch (cause) {
      throw new MalformedJsonError(`an element is not valid JSON: ${(cause as Error).message}`);
    }
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Yields the elements of a JSON array body in batches of at most `batchSize`, as they arrive. */
export async function* jsonArrayBatches(
  body: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
  batchSize: number,
): AsyncGenerator<unknown[]> {
  const decoder = new StringDecoder('utf8');
  const splitter = new JsonArraySplitter();
  let batch: unknown[] = [];
  for await (const chunk of body) {
    const items = splitter.push(typeof chunk === 'string' ? chunk : decoder.write(chunk));
    for (const item of items) {
      batch.push(item);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
  }
  splitter.push(decoder.end());
  splitter.end();
  if (batch.length > 0) yield batch;
}
