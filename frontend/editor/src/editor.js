/*
 * The LaTeX editor of the conversion page: CodeMirror 6 over the form's <textarea>.
 *
 * Bundled by scripts/build-editor into static/latexocr/editor.js (committed; no CDN). The
 * page works without it: the textarea is the form field. With it, the textarea is hidden and
 * kept in sync on submit; a click on an error's line number ("ligne 12") puts the cursor on
 * that line (latexocr.js sends the "latex-editor:goto" event; without this editor it selects
 * the line in the textarea itself). CodeMirror's styles go through constructable style
 * sheets, so the CSP needs no 'unsafe-inline'.
 */
import { EditorState } from "@codemirror/state";
import {
  EditorView,
  drawSelection,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import {
  StreamLanguage,
  bracketMatching,
  defaultHighlightStyle,
  syntaxHighlighting,
} from "@codemirror/language";
import { stex } from "@codemirror/legacy-modes/mode/stex";

function enhance(textarea) {
  const form = textarea.form;
  const label = document.querySelector('label[for="' + textarea.id + '"]');
  const contentAttributes = {
    "aria-label": label ? label.textContent.trim() : "LaTeX",
    "aria-multiline": "true",
    spellcheck: "false",
    autocapitalize: "off",
    autocorrect: "off",
  };
  const describedBy = textarea.getAttribute("aria-describedby");
  if (describedBy) {
    contentAttributes["aria-describedby"] = describedBy;
  }
  const view = new EditorView({
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        history(),
        drawSelection(),
        highlightActiveLine(),
        bracketMatching(),
        StreamLanguage.define(stex),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        // Tab is left to the browser: keyboard users can leave the editor.
        keymap.of([...defaultKeymap, ...historyKeymap]),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of(contentAttributes),
      ],
    }),
  });
  view.dom.classList.add("latex-codemirror");
  textarea.parentNode.insertBefore(view.dom, textarea);
  textarea.hidden = true;
  textarea.dataset.enhanced = "codemirror";

  if (label) {
    label.addEventListener("click", function (event) {
      event.preventDefault();
      view.focus();
    });
  }
  if (form) {
    form.addEventListener("submit", function () {
      textarea.value = view.state.doc.toString();
    });
  }
  textarea.addEventListener("latex-editor:goto", function (event) {
    const number = Math.min(Math.max(1, event.detail.line), view.state.doc.lines);
    const line = view.state.doc.line(number);
    view.dispatch({
      selection: { anchor: line.from, head: line.to },
      effects: EditorView.scrollIntoView(line.from, { y: "center" }),
    });
    view.focus();
  });
}

const textarea = document.getElementById("latex-editor");
if (textarea) {
  enhance(textarea);
}
