/**
 * A small XML well-formedness checker for the JUnit tests (no XML parser is a dependency):
 * balanced and properly nested tags, quoted attributes without raw < or &, entities only from
 * XML's five, a single root. Returns the elements in document order with their attributes.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  text: string;
}

export function parseXml(xml: string): XmlElement[] {
  let s = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const out: XmlElement[] = [];
  const stack: XmlElement[] = [];
  let roots = 0;
  const checkText = (t: string): void => {
    if (/[<>]/.test(t)) throw new Error(`raw < or > in text: ${t.slice(0, 40)}`);
    const bad = t.match(/&(?!(amp|lt|gt|quot|apos);)/);
    if (bad) throw new Error(`bad entity in: ${t.slice(0, 40)}`);
  };
  while (s.length) {
    const lt = s.indexOf('<');
    if (lt < 0) {
      if (s.trim()) throw new Error('text after the root element');
      break;
    }
    const text = s.slice(0, lt);
    checkText(text);
    if (stack.length) stack[stack.length - 1]!.text += text;
    else if (text.trim()) throw new Error('text outside the root element');
    const gt = s.indexOf('>', lt);
    if (gt < 0) throw new Error('unterminated tag');
    const tag = s.slice(lt + 1, gt);
    s = s.slice(gt + 1);
    if (tag.startsWith('/')) {
      const open = stack.pop();
      if (!open || open.name !== tag.slice(1)) throw new Error(`mismatched </${tag.slice(1)}>`);
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const m = /^([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"]*")*)\s*$/.exec(body);
    if (!m) throw new Error(`malformed tag <${tag}>`);
    const attrs: Record<string, string> = {};
    for (const a of m[2]!.matchAll(/([A-Za-z_][\w.-]*)="([^"]*)"/g)) {
      checkText(a[2]!);
      if (a[1]! in attrs) throw new Error(`duplicate attribute ${a[1]}`);
      attrs[a[1]!] = a[2]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
    }
    const el: XmlElement = { name: m[1]!, attrs, text: '' };
    if (stack.length === 0 && ++roots > 1) throw new Error('more than one root element');
    out.push(el);
    if (!selfClosing) stack.push(el);
  }
  if (stack.length) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  return out;
}
