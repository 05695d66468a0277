"""Small real documents for the format tests, made on the spot: a saved Chinese news page with a
menu, an ad and a footer; a two-page PDF with a running header, a Chinese line broken by the
layout mid-sentence and a hyphenated English word; a Word file with headings and a table."""
from __future__ import annotations

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

NEWS_TITLE = "商汤科技成立北美智慧医疗实验室"
NEWS_URL = "https://news.example.cn/tech/2018-08/07/c_1123232.htm"
NEWS_PARAGRAPHS = [
    "近日，全球领先的人工智能平台公司商汤科技宣布在美国新泽西成立智慧医疗实验室，人工智能医疗领域的"
    "国际顶尖专家Dimitri Metaxas教授加盟，并担任实验室医学影像分析首席科学家。",
    "这是商汤科技在海外成立的首个医疗研究实验室，在专注医疗领域人工智能技术前沿探索的同时，"
    "实验室还将与美国东海岸的医疗机构展开合作。",
    "随着此次北美智慧医疗实验室的成立，商汤将加速AI在医学领域的研发与应用落地，实现诊断、治疗、"
    "康复等医学全链条的覆盖。",
]
MENU = ["首页", "科技频道", "财经频道", "登录注册"]
AD = "广告：点击领取优惠券，限时特价手机热卖中"
FOOTER = "版权所有 新华网 | 关于我们 | 联系我们 | 京ICP备12345678号"


def news_page(encoding: str = "utf-8") -> bytes:
    """A news page as a browser saves it: menu, ad, the article, a footer; date and canonical URL in <head>."""
    menu = "".join(f'<li><a href="/{i}">{name}</a></li>' for i, name in enumerate(MENU))
    body = "".join(f"<p>{p}</p>" for p in NEWS_PARAGRAPHS)
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="{encoding}">
<title>{NEWS_TITLE}_新华网</title>
<meta property="og:title" content="{NEWS_TITLE}">
<meta property="article:published_time" content="2018-08-07T10:20:00+08:00">
<link rel="canonical" href="{NEWS_URL}">
</head><body>
<div class="nav"><ul>{menu}</ul></div>
<div class="ad">{AD}</div>
<article><h1>{NEWS_TITLE}</h1><div class="info">2018年08月07日 10:20 来源：新华网</div>{body}</article>
<div class="footer"><p>{FOOTER}</p></div>
</body></html>""".encode(encoding)


PDF_HEADER = "科技日报 · 医疗专栏"
# (page, lines as the layout broke them): blank lines are the gaps between paragraphs
PDF_PAGES = [
    ["深度学习让医学影像分析进入新阶段，研究人员在", "新泽西的实验室里训练了识别肿瘤的模型。", "",
     "The model was trained on thousands of an-", "notated scans from partner hospitals.", "",
     "实验室计划明年把这套系统推广到东海岸的"],
    ["十家医院，医生可以在阅片时参考模型的判断。", "",
     "这项研究由商汤科技和罗格斯大学共同完成。"],
]
PDF_PARAGRAPHS = [
    "深度学习让医学影像分析进入新阶段，研究人员在新泽西的实验室里训练了识别肿瘤的模型。",
    "The model was trained on thousands of annotated scans from partner hospitals.",
    "实验室计划明年把这套系统推广到东海岸的十家医院，医生可以在阅片时参考模型的判断。",
    "这项研究由商汤科技和罗格斯大学共同完成。",
]


def two_page_pdf(path: Path, title: str = "医学影像的新进展", encrypt: str | None = None) -> Path:
    """A real two-page PDF (reportlab, the built-in STSong-Light CID font): a running header and a
    page number on each page, paragraphs broken into lines, one paragraph running over the page break."""
    from reportlab.lib import pdfencrypt
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    secret = pdfencrypt.StandardEncryption(encrypt, "owner") if encrypt else None
    pdf = canvas.Canvas(str(path), encrypt=secret)
    pdf.setTitle(title)
    for number, lines in enumerate(PDF_PAGES, 1):
        pdf.setFont("STSong-Light", 9)
        pdf.drawString(72, 800, PDF_HEADER)
        pdf.drawString(290, 40, f"- {number} -")
        pdf.setFont("STSong-Light", 12)
        for row, line in enumerate(lines):
            if line:
                pdf.drawString(72, 720 - 16 * row, line)
        pdf.showPage()
    pdf.save()
    return path


def scanned_pdf(path: Path) -> Path:
    """A PDF whose pages hold only pictures (filled shapes here), as a scan without OCR does."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path))
    for _ in range(2):
        pdf.rect(72, 400, 300, 300, fill=1)
        pdf.showPage()
    pdf.save()
    return path


WORD_TITLE = "智慧医疗实验室年度报告"
WORD_PARAGRAPHS = ["实验室概况", "实验室由Dimitri Metaxas教授领导，研究医学影像分析。",
                   "合作医院", "实验室与纽约大学医学院合作开展心脏成像研究。", "年份\t成果",
                   "2018\t成立北美智慧医疗实验室"]


def word_file(path: Path) -> Path:
    """A .docx made with python-docx: a Title, headings, paragraphs and a table."""
    import docx

    document = docx.Document()
    document.add_heading(WORD_TITLE, 0)
    for text in WORD_PARAGRAPHS[:4]:
        if len(text) < 8:
            document.add_heading(text, 1)
        else:
            document.add_paragraph(text)
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate(WORD_PARAGRAPHS[4:]):
        for c, cell in enumerate(row.split("\t")):
            table.cell(r, c).text = cell
    document.save(str(path))
    return path


@contextlib.contextmanager
def web_server(routes: dict):
    """A web server on 127.0.0.1 serving ``routes``: path → (status, content type or, for a redirect,
    the Location, body); anything else is a 404. Yields its base URL."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            status, kind, body = routes.get(self.path, (404, "text/plain", b"not here"))
            self.send_response(status)
            self.send_header("Location" if 300 <= status < 400 else "Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
