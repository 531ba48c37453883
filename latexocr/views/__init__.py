"""Pages of the PDF-to-LaTeX tool, one module per role: upload and list (`conversions`), the
result page and its polling (`detail`), the review's writes (`review`) and the files
(`downloads`). Every conversion page is the owner's alone (else 404); shared pieces live in
`common`."""
