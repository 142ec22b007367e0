"""Official documents (公文): GB/T 9704 PDFs made from records by county-edited configuration.

Only this package imports WeasyPrint. A document's template (``config/documents/<id>/template.html``)
renders in a limited Jinja sandbox inside a render worker process with a time limit and a page cap;
WeasyPrint may fetch only from the layout folder, the county's font folder and ``data:`` URLs.
Issuing assigns the 发文字号 in the same transaction that stores the PDF, so numbers never skip.
"""
