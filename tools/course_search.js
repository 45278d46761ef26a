/* The course's search, added to Sphinx's language_data.js (loaded after searchtools.js).
 *
 * 1. splitQuery: a CJK query word that is not in the index as a whole (e.g. a compound the
 *    word splitter of the build cut differently) is cut into the longest words the index
 *    knows, so every page holding all of them is found.
 * 2. Search.htmlToText: result snippets come from the article text only, without the page's
 *    buttons and print header (".ipynb .pdf") and without the TeX source of formulas.
 */
var splitQuery = (query) => {
  const words = query.split(/[^\p{Letter}\p{Number}_\p{Emoji_Presentation}]+/gu).filter((w) => w);
  const index = typeof Search !== "undefined" ? Search._index : null;
  if (!index) return words;
  const known = (w) => Object.hasOwn(index.terms, w) || Object.hasOwn(index.titleterms, w);
  const cjk = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
  const out = [];
  for (const word of words) {
    const lower = word.toLowerCase();
    if (known(lower) || !cjk.test(word)) {
      out.push(word);
      continue;
    }
    const pieces = [];
    for (let i = 0; i < word.length;) {
      let j = Math.min(word.length, i + 16);
      while (j > i + 1 && !known(lower.slice(i, j))) j--;
      if (j > i + 1 || known(lower.slice(i, j))) pieces.push(word.slice(i, j));
      i = j;
    }
    out.push(...(pieces.length ? pieces : [word]));
  }
  return out;
};

if (typeof Search !== "undefined") {
  Search.htmlToText = (htmlString, anchor) => {
    const doc = new DOMParser().parseFromString(htmlString, "text/html");
    const noise = [".headerlink", "script", "style", ".katex-mathml", "annotation",
                   ".bd-header-article", "#jb-print-docs-body", ".d-print-none", ".prev-next-area",
                   ".course-pdf-link", ".course-stale-translation"];
    doc.querySelectorAll(noise.join(",")).forEach((el) => el.remove());
    // Formulas typeset in the browser are TeX source in the page: show them as a mark instead.
    doc.querySelectorAll("span.math, div.math").forEach((el) => {
      if (!el.querySelector(".katex")) el.replaceWith("…");
    });
    const main = doc.querySelector("article.bd-article") || doc.querySelector('[role="main"]');
    if (!main) return "";
    const part = anchor ? main.querySelector(anchor) : null;
    return (part || main).textContent.replace(/\s+/g, " ");
  };
}
