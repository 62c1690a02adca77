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
# A site address. Speeches name no web domains; watermarks always carry one or a site brand.
DOMAIN = (r"(?:https?://)?(?:www\.)?[a-z0-9][a-z0-9-]{0,30}(?:\.[a-z0-9-]{1,30})*"
          r"\.(?:com|cn|net|org|cc|info|top|vip|xyz|site|work|wang|club|me|tw|hk|biz|co)"
          r"(?![a-z0-9])(?:/[\w./?=&%#-]*)?")
DOMAIN_RE = re.compile(DOMAIN)
DOMAIN_HINT = re.compile(r"\.(?:com|cn|net|org|cc|info|top|vip|xyz|site|work|wang|club|me|tw|hk|biz|co)(?![a-z0-9])")
# "资料来源于 XX网" with junk punctuation wedged between the characters to defeat exact matching:
# (资/料来.源,于:gzu521学;习/网 ]gzu521.com. J is the junk allowed between two characters.
_J = r"[^\w\n]{0,3}"
_BRAND = rf"(?:[a-z0-9{CJK}]{_J}){{1,14}}?[网站库汇]"
_SOURCE_WORD = rf"(?:资{_J}料{_J})?(?:来{_J}源|出{_J}自|转{_J}自|摘{_J}自|本{_J}文{_J}来{_J}自)(?:{_J}于)?"
# The brand ends in 网/站/库/汇, or the phrase runs on to the site's address.
OBFUSCATED_SOURCE = re.compile(
    rf"[(\[【{{]?\s*{_SOURCE_WORD}{_J}(?:{_BRAND}{_J}(?:{DOMAIN})?|[^\n。!?]{{0,20}}?{DOMAIN})\s*[)\]】}}]?")
SOURCE_HINT = re.compile(r"来.{0,3}源|出.{0,3}自|转.{0,3}自|摘.{0,3}自|本.{0,3}文.{0,3}来")
# Forum "jammer" text: runs of one-to-three-character ASCII tokens, most of them punctuation,
# that anti-copy plugins insert at line breaks ("/ G- k; W% a% |( ^# n% J3").
JAMMER = re.compile(r"(?:[!-~]{1,3}[ \t]+){5,}[!-~]{1,3}")
# A domain with the brand that precedes it, left inside a paragraph: "(稿子汇 www.gaozihui.com)".
INLINE_DOMAIN = re.compile(
    rf"[(\[【]?\s*(?:{H}{{1,8}}[网站库汇]\s*[,:]?\s*)?(?:(?:e-?mail|邮箱|电子邮件)\s*[:]?\s*)?(?:[\w.+-]+@)?{DOMAIN}\s*[)\]】]?")
# Words site brands are built from, for brand-only lines with no address ("稿子汇,范文学习文库").
BRAND_WORDS = ("范文", "文库", "学习", "文秘", "公文", "稿子", "写作", "资料", "文档", "文章", "作文", "秘书")
BRAND_LINE = re.compile(rf"^(?:{H}{{1,8}}(?:网|站|汇|文库|文档|之家)(?:[,|\s]+|$)){{1,3}}$")

# --- 3. Paywall and preview fragments ---------------------------------------------------------
ELLIPSIS = r"(?:…+|\.{3,}|。{3,})"
# An omitted middle: "……(新文秘网 http://… 省略1032字,正式会员可完整阅读)……"
OMITTED = re.compile(
    rf"{ELLIPSIS}?\s*[(\[【]?[^()\[\]【】\n]{{0,60}}?(?:省略|隐藏|略去|屏蔽)(?:了)?\s*(\d+)\s*字"
    rf"(?:[^()\[\]【】\n]{{0,60}}[)\]】])?\s*{ELLIPSIS}?")
# A truncated end: "……(未完,全文共6287字,当前仅显示2897字,请阅读下面提示信息。收藏《…》". Everything
# after it on the page is the site's upsell.
TRUNCATED = re.compile(
    rf"{ELLIPSIS}?\s*[(\[【]?\s*(?:未完(?:待续)?[,。\s]*(?:全文|剩余|余下)|全文共\s*\d+\s*字|当前仅显示\s*\d+\s*字"
    rf"|(?:登录|登陆|注册|开通会员|成为会员|升级vip|付费)后?(?:即可)?(?:查看|阅读|浏览)(?:全文|完整|剩余))")
# Cheap look-ups that must succeed before the costly paywall patterns are tried.
OMITTED_HINT = re.compile(r"(?:省略|隐藏|略去|屏蔽).{0,8}\d|\d.{0,3}字")
TRUNCATED_HINT = re.compile(r"未完|全文|显示|登录|登陆|注册|会员|vip|付费")
STATED_LENGTH = re.compile(r"(?:全文|全篇|本文)(?:共|约)?\s*(\d+)\s*字")
# Document-site preview limits: the rest of the document was not shown.
PREVIEW_LIMIT = re.compile(
    r"^(?:还剩\s*\d+\s*页未读.*|本(?:资源|文档|文)(?:只|仅)(?:提供|能预览|预览|展示)\s*(?:前)?\s*\d+\s*页.*"
    r"|(?:全部|完整)(?:文档|内容)请下载.*|预览已结束.*|试读已结束.*)$")
# Preview widgets that do not by themselves say text is missing.
PREVIEW_WIDGET = re.compile(
    rf"^{BULLET}(?:点击(?:查看|阅读|加载)(?:更多|全文|剩余).*|继续阅读\W*|展开(?:全文|阅读)(?:更多)?\W*"
    r"|第\s*\d+\s*页\s*/\s*共\s*\d+\s*页|共\s*\d+\s*页\s*,?\s*当前第\s*\d+\s*页)$")

# --- 4. Site intros, disclaimers, editor lines, credits ----------------------------------------
# Words of the site speaking about itself. A line with two of them (or one behind an intro label)
# is the site's voice, not the speaker's.
SITE_VOICE_STRONG = ("本站", r"本网(?![格络点民])", "小编", "网友上传", "用户上传", "用户发布", "不代表本站", "自发贡献",
                     "存储空间", "咨询客服", "客服老师", "立刻删除", "立即删除", "联系删除", "侵权请")
SITE_VOICE_WEAK = ("仅供参考", "欢迎参考", "欢迎阅读", "欢迎借鉴", "供您阅读", "供大家参考", "供您参考", "阅读参考",
                   "精心挑选", "精心整理", "为您带来", "为大家整理", "为你整理", "为您整理", "原创文章", "希望对你有帮助",
                   "希望对您有所帮助", "希望能帮助到", "一起来看看", "更上一层楼", "免责声明", "版权声明")
SITE_VOICE_STRONG_RE = re.compile("|".join(SITE_VOICE_STRONG))
SITE_VOICE_WEAK_RE = re.compile("|".join(SITE_VOICE_WEAK))
INTRO_LABEL = re.compile(r"^[【\[]?(?:导语|导读|前言|摘要|提要|编者按|温馨提示|声明|说明|简介)[】\]]?\s*[:]?")
EDITOR_LINE = re.compile(
    r"^[(\[【]?\s*(?:责任编辑|责编|编辑|校对|审核|审校|编审|稿源|文章来源|来源|出处|作者|撰稿|录入)\s*[:]"
    r".{0,30}[)\]】]?$")
PHOTO_CREDIT = re.compile(
    rf"[(\[]?\s*(?:(?:新华社|中新社|人民网|本报|央视|新华网)?\s*(?:特约)?记者\s*(?:{H}{{2,4}}\s*){{1,3}}/?\s*摄"
    rf"|(?:图片来源|图片|摄影|图)\s*[:/]\s*{H}{{2,10}})\s*[)\]]?")
CREDIT_HINT = re.compile(r"摄|图|《")
PAPER_SOURCE = re.compile(
    rf"[(\[]?\s*《\s*{H}{{2,12}}\s*》\s*[(\[]?\s*(\d{{4}})\s*年\s*(\d{{1,2}})\s*月\s*(\d{{1,2}})\s*日\s*"
    r"(?:第?\s*\d+\s*版)?\s*[)\]]?\s*[)\]]?")

# --- 5. Page chrome ---------------------------------------------------------------------------
BREADCRUMB = re.compile(
    r"^(?:(?:您|你)?(?:的|当前)?(?:所在)?位置\s*[:].*|(?:网站)?首页\s*(?:>|>>|»|›|/|→|-).*)$")
CRUMB_SEPARATORS = re.compile(r"\s*(?:>>|>|»|›|→)\s*")
SENTENCE_END = re.compile(r"[。!?;][”’\"')]*\s*$")
PREV_NEXT = re.compile(rf"^{BULLET}(?:上一篇|下一篇|上一页|下一页|上一条|下一条|上篇|下篇|前一篇|后一篇)\s*[:].*$")
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
SALUTATION = re.compile(r"^(?:尊敬的|各位|亲爱的).{0,40}[:]$|^(?:同志们|朋友们|同志们,朋友们|老师们,同学们)\s*[:]$")
OPENING = re.compile(r"^(?:.{0,10}(?:下午好|上午好|晚上好|大家好)[!。]?$|我是.{2,40}|.*(?:汇报|报告)如下[:。]?$)")
DOC_TITLE = re.compile(r"^[^,。:!?;]{2,32}(?:汇报|报告|讲话|发言|致辞|材料|总结|工作计划)$")
SUBTITLE = re.compile(r"^——.{2,40}$")

# --- 7. Encoding ------------------------------------------------------------------------------
# Characters a lossy conversion replaced: "??h委" where 縣委 belongs, or U+FFFD.
MOJIBAKE = re.compile(rf"\?{{2,}}[a-z]?(?={H})|(?<={H})\?{{2,}}|\ufffd")

# --- Speech metadata ---------------------------------------------------------------------------
SPEECH_DATE = re.compile(r"^[(\[]\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*[)\]]$")
SPEAKER_LINE = re.compile(rf"^{H}(?:\s?{H}){{1,3}}$")
OCCASION = re.compile(r"在(.{2,60}?)(?:上|中|开幕式上|闭幕式上)的(?:讲话|发言|致辞|报告|主持词|总结讲话|动员讲话)")
TITLE_SPEAKER = re.compile(rf"^({H}{{2,4}}?)(?:同志)?(?:[::]\s*)?在")
HEADING = re.compile(rf"^(?:([{NUM_CN}]+)[、.]|\(([{NUM_CN}]+)\))\s*([^。!?]{{2,40}}?)(?:[。.:]|$)")
