"""The downloadable forms of a guide: a blank .docx (表格下载) and a filled .pdf (示范文本).

Both are small but well-formed files, so a checker that opens them (or only looks at the
content type and size) sees what a real portal would serve.
"""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape as xml_escape

from sandbox.catalog import department_by_code
from sandbox.guide import ServiceItem

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_TYPE = "application/pdf"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)


def _form_lines(item: ServiceItem, sample: bool) -> list[str]:
    applicant = "示范市云岭科技有限公司" if sample else "＿" * 16
    code = "91530100MA6K8L2Q3D" if sample else "＿" * 16
    phone = "0871-65550123" if sample else "＿" * 12
    department = department_by_code(item.department)
    title = (item.form_title or f"{item.name}申请表") + ("（示范文本）" if sample else "")
    return [
        title,
        f"申请事项：{item.name}",
        f"受理部门：{department.name if department else ''}",
        f"申请人（单位）名称：{applicant}",
        f"统一社会信用代码（身份证件号码）：{code}",
        f"联系电话：{phone}",
        "申请人承诺：所填写内容及提交材料真实、有效，如有虚假，愿承担相应法律责任。",
        "申请人签字（盖章）：" + ("张三" if sample else "") + "　　　　年　　月　　日",
    ]


def blank_form_docx(item: ServiceItem) -> bytes:
    """A minimal Word document with the form's fields left blank."""
    paragraphs = "".join(
        f'<w:p><w:r><w:t xml:space="preserve">{xml_escape(line)}</w:t></w:r></w:p>'
        for line in _form_lines(item, sample=False)
    )
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{paragraphs}</w:body></w:document>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("word/document.xml", document)
    return buffer.getvalue()


def sample_form_pdf(item: ServiceItem) -> bytes:
    """A one-page PDF of the filled-in sample, set in the standard STSong-Light CJK font."""
    text_ops = []
    for index, line in enumerate(_form_lines(item, sample=True)):
        size = 16 if index == 0 else 11
        utf16 = line.encode("utf-16-be").hex().upper()
        text_ops.append(f"BT /F1 {size} Tf 60 {760 - index * 32} Td <{utf16}> Tj ET")
    stream = "\n".join(text_ops).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        b"/DescendantFonts [6 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> "
        b"/FontDescriptor 7 0 R >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 "
        b"/FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 "
        b"/CapHeight 880 /StemV 93 >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref_at,
    )
    return bytes(out)
