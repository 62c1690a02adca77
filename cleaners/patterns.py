"""The general noise patterns, in one place, each describing a *kind* of noise.

All patterns run on ``chars.fold(text)``: simplified script, half-width ASCII punctuation, lower
case. Write them in that form and they also match traditional and full-width spellings. A pattern
that is only true of one site belongs in that site's source file (``noise`` list), not here.
Each entry is tested on real-looking input and on a speech sentence it must leave alone.
"""

from __future__ import annotations

import re

from cleaners.chars import CJK

H = rf"[{CJK}]"  # one Chinese character
NUM_CN = "一二三四五六七八九十百零〇"
BULLET = r"[-·•*◆■□●○>›»\s]*"  # list markers a naive extractor leaves before a line

# --- 1. Watermarks ----------------------------------------------------------------------------
# Words site brands are built from, for brand-only lines with no address ("稿子汇,范文学习文库").
BRAND_WORDS = ("范文", "文库", "学习", "文秘", "公文", "稿子", "写作", "资料", "文档", "文章", "作文", "秘书")

# --- 3. Paywall and preview fragments ---------------------------------------------------------
ELLIPSIS = r"(?:…+|\.{3,}|。{3,})"
# An omitted middle: "……(新文秘网 http://… 省略1032字,正式会员可完整阅读)……"
OMITTED = re.compile(
    rf"{ELLIPSIS}?\s*[(\[【]?[^()\[\]【】\n]{{0,100}}?(?:省略|隐藏|略去|屏蔽)(?:了)?\s*(\d+)\s*字"
    rf"(?:[^()\[\]【】\n]{{0,60}}[)\]】])?\s*{ELLIPSIS}?")
# A truncated end: "……(未完,全文共6287字,当前仅显示2897字,请阅读下面提示信息。收藏《…》". Everything
# after it on the page is the site's upsell.
TRUNCATED = re.compile(
    rf"{ELLIPSIS}?\s*[(\[【]?\s*(?:未完(?:待续)?[,。\s]*(?:全文|剩余|余下)|全文共\s*\d+\s*字|当前仅显示\s*\d+\s*字"
    rf"|(?:登录|登陆|注册|开通会员|成为会员|升级vip|付费)后?(?:即可)?(?:查看|阅读|浏览)(?:全文|完整|剩余))")
# Cheap look-ups that must succeed before the costly paywall patterns are tried.
OMITTED_HINT = re.compile(r"省略|隐藏|略去|屏蔽")
TRUNCATED_HINT = re.compile(r"未完|全文|显示|登录|登陆|注册|会员|vip|付费")
STATED_LENGTH = re.compile(r"(?:全文|全篇|本文)(?:共|约)?\s*(\d+)\s*字")
# Preview notes: the page shows part of the text and says so ("还剩39页未读", "本资源只提供10页预览",
# "免费下载完整版查看全文", "点击查看更多>>"). Each marks the copy truncated. Written as families
# (a count of what is left; a lock word with a whole-text word; a read-more widget), so new wordings
# of the same note are found; only a short line of its own qualifies, never a sentence of a speech.
PREVIEW_LEFT = re.compile(r"(?:(?:还剩|剩余|剩下|余下|尚余|还有)\s*)?\d+\s*(?:页|字|%|章)\s*(?:未读|未显示|未展示|未看|没读|未阅读)")
PREVIEW_LOCK = re.compile(r"下载|登录|登陆|注册|会员|付费|开通|购买|vip|充值|解锁|扫码")
PREVIEW_WHOLE = re.compile(r"全文|完整|剩余|全部|更多|余下|后续")
PREVIEW_SHOWN = re.compile(r"(?:只|仅)(?:提供|能预览|预览|展示|显示|可预览|支持预览)\s*(?:前)?\s*\d+\s*页|预览已结束|试读已结束|试读结束|预览结束"
                           r"|以上(?:为|是)(?:节选|部分|摘录|试读)")
PREVIEW_WIDGET = re.compile(
    rf"^{BULLET}(?:点击|查看|阅读|加载|展开|继续|下载|免费|立即|马上)*\s*(?:查看|阅读|加载|展开|浏览)?\s*(?:更多|全文|剩余|余下)?"
    r"(?:内容|全文|阅读|部分)?\s*[>»›\]】)!.…]*$")
PAGE_MARKER = re.compile(r"^第\s*\d+\s*页\s*/\s*共\s*\d+\s*页$|^共\s*\d+\s*页\s*,?\s*当前第\s*\d+\s*页$")

# --- 4. Site intros, disclaimers, editor lines, credits ----------------------------------------
# The site speaking about itself. A sentence is the site's voice when it names the site or its
# editor (or opens with an intro label) and offers the text or invites to read it; or when it does
# both. Each part is a family, so "为您搜集", "给大家精选", "希望能够帮助到大家" are all found.
SITE_SELF = re.compile(r"本文是|本文为|本文由|本篇|本站|本网(?![格络点民])|小编|编者|网友上传|用户上传|用户发布|自发贡献|存储空间"
                       r"|咨询客服|客服老师|立刻删除|立即删除|联系删除|侵权请|专区提醒|^(?:下面|以下|下文)(?:是|为|就是)(?![^。]*我)")
SITE_OFFER = re.compile(r"(?:为|给|帮|替)(?:大家|您|你|各位|朋友们|大伙)[^。!?]{0,8}?(?:整理|收集|搜集|准备|推荐|精选|挑选|带来|分享"
                        r"|汇编|编辑|提供|收录|汇总)|精心(?:挑选|整理|收集|准备|编辑)")
SITE_INVITE = re.compile(r"(?:仅|只)供[^。!?]{0,4}(?:参考|借鉴|学习|阅读)|欢迎[^。!?]{0,6}(?:阅读|参考|借鉴|阅览|浏览|收藏|下载|分享|关注)"
                         r"|希望[^。!?]{0,10}(?:帮助|启发|有用|用处|喜欢)|供(?:大家|您|你)[^。!?]{0,4}(?:参考|借鉴|阅读|学习)|带来启发"
                         r"|更上一层楼|更多精彩|不代表本站|仅代表作者|版权归|免责声明|版权声明")
INTRO_LABEL = re.compile(r"^[【\[]?(?:导语|导读|前言|摘要|提要|编者按|温馨提示|声明|说明|简介)[】\]]?\s*[:]?")
EDITOR_LINE = re.compile(
    r"^[(\[【]?\s*(?:责任编辑|责编|编辑|校对|审核|审校|编审|稿源|文章来源|来源|出处|作者|撰稿|录入)\s*[:]"
    r".{0,30}[)\]】]?$")
PHOTO_CREDIT = re.compile(
    rf"[(\[]?\s*(?:(?:新华社|中新社|人民网|本报|央视|新华网)?\s*(?:特约)?记者\s*(?:{H}{{2,4}}\s*){{1,3}}/?\s*摄"
    rf"|(?:图片来源|图片|摄影|图)\s*[:/]\s*{H}{{2,10}})\s*[)\]]?")
CREDIT_HINT = re.compile(r"摄|图|《")
PHOTO_HINT = re.compile(r"摄|图\s*[:/]|图片|摄影")
PAPER_SOURCE = re.compile(
    rf"[(\[]?\s*《\s*{H}{{2,12}}\s*》\s*[(\[]?\s*(\d{{4}})\s*年\s*(\d{{1,2}})\s*月\s*(\d{{1,2}})\s*日\s*"
    r"(?:第?\s*\d+\s*版)?\s*[)\]]?\s*[)\]]?")

# --- 5. Page chrome ---------------------------------------------------------------------------
BREADCRUMB = re.compile(
    r"^(?:(?:您|你)?(?:的|当前)?(?:所在)?位置\s*[:].*|(?:网站)?首页\s*(?:>|>>|»|›|/|→|-).*)$")
CRUMB_SEPARATORS = re.compile(r"\s*(?:>>|>|»|›|→)\s*")
SENTENCE_END = re.compile(r"[。!?;][”’\"')]*\s*$")
PREV_NEXT = re.compile(rf"^{BULLET}(?:上|下|前|后)一?(?:篇|页|条|章|则|主题)(?:文章|新闻|内容|范文|文档)?\s*[:].*$")
PAGER = re.compile(r"^(?:(?:上一页|下一页|首页|尾页|末页|上页|下页|\d{1,3}|…|\.\.\.|\[\d+\])\s*){2,}$")
DOC_META = re.compile(
    rf"^{BULLET}(?:\d+(?:\.\d+)?|约\s*[\d.]+\s*(?:千字|万字|字|页)|page\s*\d*\s*-?"
    r"|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\s*(?:\d{1,2}:\d{2}(?::\d{2})?)?\s*发布于\s*\S{2,8})$")
WIDGET_WORDS = ("举报", "收藏", "分享", "打印", "下载", "全屏", "关闭", "关闭窗口", "返回顶部", "返回", "评论",
                "点赞", "加入收藏", "复制链接", "字号", "加大", "还原", "减小", "放大", "缩小", "默认", "大", "中", "小",
                "打印本页", "分享到", "转藏到我的图书馆", "转藏", "献花", "微信", "微博", "qq空间", "扫一扫", "相关",
                "搜索", "登录", "注册", "设为首页", "添加收藏夹", "关于我们", "联系我们", "网站地图", "返回首页")
COUNTER = re.compile(rf"^{BULLET}{H}{{1,10}}\s*[(\[]\s*\d+\s*[)\]]$")
UPLOAD_FIELDS = re.compile(r"(?:上传人|上传者|文档编号|上传时间|格式|页数|大小|浏览|下载次数|文档页数|贡献者)\s*[:]")
RELATED_HEAD = re.compile(
    r"^(?:您可能关注的文档|你可能关注的文档|最近下载|最新下载|相关(?:文档|文章|推荐|阅读|范文|内容|资料|搜索|专题)"
    r"|猜你喜欢|热门(?:文章|推荐|文档|范文)|推荐(?:阅读|文章|文档)|延伸阅读|更多(?:精彩|相关|推荐|范文)\S{0,6}"
    r"|你可能(?:还)?(?:感兴趣|喜欢)\S{0,6}|精彩推荐|大家都在看|看了.{1,10}的人还看了)\s*[:>]*$")
FILE_ITEM = re.compile(r"\.(?:docx?|pdf|pptx?|xlsx?|txt|wps)(?:\s*vip)?$")
DATE_LINE = re.compile(
    r"^(?:(?:发表|发布|更新|上传|录入|添加)?(?:时间|日期))\s*[:]\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})"
    r"\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?\s*$")
META_FIELDS = re.compile(r"(?:来源|作者|浏览|点击|阅读|编辑|发布者|发布时间|时间|字号|浏览次数|阅读次数)\s*[:]")
META_LABEL = re.compile(r"^(?:浏览|浏览次数|浏览量|阅读|阅读次数|阅读量|点击|点击数|点击量|访问量|信息来源|发布机构|发布单位"
                        r"|发布时间|发布日期|所属栏目)\s*[:].{0,24}$")
LANG_SWITCH = re.compile(r"^(?:english|中文版?|简体(?:中文|版)?|繁体(?:中文|版)?|无障碍(?:浏览)?|手机版|移动版|[|/\s])+$")
COPYRIGHT = re.compile(r"^(?:版权所有|copyright|©|\(c\)).*|.*icp[备证]\s*\d+.*$")
TOC_HEAD = re.compile(r"^(?:目录|提纲|目录/提纲|文章目录|本文目录|文章提纲)\s*[:]?\s*(?:…+|\.{3,})?$")
ELLIPSIS_LINE = re.compile(r"^[…\.。·\s]+$")
TOC_ENTRY = re.compile(rf"^(?:[{NUM_CN}]+[、.]|\([{NUM_CN}]+\)|\d+[、.]|第.{{1,4}}[章节部分])")
REGION = re.compile(r"发布于\s*(\S{2,8})$")

# --- 6. Pages that are not one speech ----------------------------------------------------------
# An explicit separator between speeches of a compilation: "驻村工作组长讲话一:", "篇2", "【范文三】".
SUBHEAD = re.compile(
    rf"^[【\[]?(?:(?:篇|第)\s*[{NUM_CN}\d]+\s*篇?|[^,。:!?;]{{0,30}}?(?:讲话|发言|致辞|范文|讲稿|稿|材料|汇报|总结|报告"
    rf"|心得|体会|主持词|演讲)\s*(?:[{NUM_CN}]+|\d+)(?!篇))\s*[】\]]?\s*[:]?$")
TOP_HEADING = re.compile(rf"^([{NUM_CN}]+)\s*[、.]")
ADDRESSEES = r"(?:同志们|朋友们|女士们|先生们|老师们|同学们|来宾们|代表们|嘉宾们)"
SALUTATION = re.compile(rf"^(?:尊敬的|各位|亲爱的).{{0,40}}[:]$|^(?:{ADDRESSEES}[,、]?){{1,4}}\s*[:]$")
# A line of a salutation that runs over several lines: "尊敬的各位领导、" / "各位来宾," before "同志们:".
SALUTATION_PART = re.compile(rf"^(?:尊敬的|各位|亲爱的|{ADDRESSEES}).{{0,30}}[,、]$")
# How a speech or report ends: thanks, a request for comment, a signature's date.
CLOSING = re.compile(r"^(?!下面|现在)(?:谢谢(?:大家|各位|您|你们)?[!。]?|.{0,30}请.{0,12}(?:批评指正|审议|评议|指导)[。!]?"
                     r"|\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|二[〇○零]\S{2,3}年\S{1,2}月\S{1,3}日)$")
GREETING = re.compile(r"^.{0,10}(?:下午好|上午好|晚上好|大家好)[!。]?$")
OPENING = re.compile(rf"^(?:{GREETING.pattern[1:]}|我是.{{2,40}}|.*(?:汇报|报告)如下[:。]?$"
                     r"|(?:下面|现在),?我代表.{2,40}(?:报告|讲话|发言))")
DOC_TITLE = re.compile(r"^[^,。:!?;]{2,32}(?:汇报|报告|讲话|发言|致辞|材料|总结|工作计划)$")
SUBTITLE = re.compile(r"^——.{2,40}$")

# --- 7. Encoding ------------------------------------------------------------------------------
# Characters a lossy conversion replaced: "??h委" where 縣委 belongs, or U+FFFD.
MOJIBAKE = re.compile(rf"\?{{2,}}[a-z]?(?={H})|(?<={H})\?{{2,}}|\ufffd")
# A double-byte character whose lead byte was lost: "?" and its trail byte (0x40-0x7E) between Chinese.
MOJIBAKE_PAIR = re.compile(rf"(?<={H})\?[\x40-\x7e]|\?[\x40-\x7e](?={H})")
MOJIBAKE_LONE = re.compile(rf"(?<={H})\?[a-z@\[\\\]^_`{{|}}~](?={H})")  # one is enough: no sentence reads "了?h要"
# UTF-8 read as Latin-1: "ä¸­æ–‡".
MOJIBAKE_LATIN = re.compile(r"[\u00c2-\u00ef][\u0080-\u00bf\u2018-\u203a\u0152-\u0178]")
# UTF-8 read as GBK turns the commonest characters into these rare ones (鍙 for 发, 鐨 for 的, 锛 for ，).
MISREAD_CHARS = re.compile("[鍙鐨浠鏄鎴涓锛銆鈥闂缁鐢绗瀹鍚鏈鍐涔璇囦紝鍦鍏寮]")
MISREAD_RUNS = ("锟斤拷", "烫烫烫", "屯屯屯")
# Any character one of the forms above needs: text without one is spared every other test.
MOJIBAKE_ANY = re.compile("[?\ufffd\u00c2-\u00ef锟烫屯" + MISREAD_CHARS.pattern.strip("[]") + "]")

# --- Speech metadata ---------------------------------------------------------------------------
SPEECH_DATE = re.compile(r"^[(\[]\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*[)\]]$")
SPEAKER_LINE = re.compile(rf"^{H}(?:\s?{H}){{1,3}}$")
OCCASION = re.compile(r"在(.{2,60}?)(?:上|中|开幕式上|闭幕式上)的(?:讲话|发言|致辞|报告|主持词|总结讲话|动员讲话)")
TITLE_SPEAKER = re.compile(rf"^({H}{{2,4}}?)(?:同志)?(?:[::]\s*)?在")
HEADING = re.compile(rf"^(?:([{NUM_CN}]+)[、.]|\(([{NUM_CN}]+)\))\s*([^。!?]{{2,40}}?)(?:[。.:]|$)")
