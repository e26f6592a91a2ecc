/**
 * A tiny well-formedness check for the SVG the report writes: balanced tags,
 * quoted attributes, escaped text, one root element. Not a full XML parser.
 */

/** Throws with a description of the first problem found. */
export function assertWellFormedXml(text: string): void {
  const body = text.replace(/<!--[\s\S]*?-->/g, "");
  const tag =
    /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/y;
  const stack: string[] = [];
  let roots = 0;
  let i = 0;
  while (i < body.length) {
    const lt = body.indexOf("<", i);
    const textEnd = lt === -1 ? body.length : lt;
    checkText(body.slice(i, textEnd), i);
    if (lt === -1) break;
    tag.lastIndex = lt;
    const m = tag.exec(body);
    if (m === null) {
      throw new Error(
        `malformed tag at ${lt}: ${JSON.stringify(body.slice(lt, lt + 60))}`,
      );
    }
    const [whole, close, name, , selfClose] = m;
    if (close === "/") {
      const open = stack.pop();
      if (open !== name) {
        throw new Error(`</${name}> at ${lt} closes <${open ?? "nothing"}>`);
      }
    } else {
      if (stack.length === 0) roots++;
      if (selfClose !== "/") stack.push(name!);
    }
    i = lt + whole.length;
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join("> <")}>`);
  if (roots !== 1) throw new Error(`expected one root element, got ${roots}`);
}

function checkText(text: string, at: number): void {
  const amp = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.exec(text);
  if (amp !== null) throw new Error(`unescaped & at ${at + amp.index}`);
  if (text.includes(">")) throw new Error(`stray > in text near ${at}`);
}

/** Count elements `<name ... class="cls"`. */
export function countClass(svg: string, name: string, cls: string): number {
  const re = new RegExp(`<${name}\\b[^>]*\\bclass="${cls}"`, "g");
  return (svg.match(re) ?? []).length;
}
