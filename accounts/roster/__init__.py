"""The student roster a teacher imports: a CSV/TSV, .xlsx or .ods file into validated rows.

Along its seams: tables (what a reader gives back, its bounds), files (text files and the
kind of a file), workbooks (.xlsx, .ods), values (cells into text and dates), columns (the
header), validation (rows and their errors), importing (the whole file, and the rows signed
for the confirm step). The import itself, which writes, is accounts.services.
"""
