/**
 * Inline Markdown of plugin help text (`code`, **bold**, [links](https://...)) as DOM nodes. Everything is built
 * with text nodes and createElement, never innerHTML, so markup in a third-party plugin's description shows as
 * text and cannot inject HTML; links are kept only for http(s) URLs.
 */
import { h } from './dom';

const TOKEN = /`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]+)\)/g;

export function inlineMarkdown(text: string): Node[] {
  const out: Node[] = [];
  let last = 0;
  for (const m of text.matchAll(TOKEN)) {
    if (m.index! > last) out.push(document.createTextNode(text.slice(last, m.index)));
    const [whole, code, bold, linkText, url] = m;
    if (code !== undefined) out.push(h('code', null, code));
    else if (bold !== undefined) out.push(h('strong', null, bold));
    else if (/^https?:\/\//i.test(url)) out.push(h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, linkText));
    else out.push(document.createTextNode(whole));
    last = m.index! + whole.length;
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}

/** The text a reader sees (for labels and aria text): Markdown markers removed. */
export const plainMarkdown = (text: string) => text.replace(TOKEN, (_w, code, bold, linkText) => code ?? bold ?? linkText);
