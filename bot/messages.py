"""Every message qabot shows a person, as English gettext msgids with named placeholders.

Frontends never write user-facing text themselves: they pass one of these to a
``Messages`` (bot/i18n.py), which returns it in the user's language. The catalogs
in bot/locale/ translate exactly these strings (tests/test_i18n.py checks both ways).
"""
from __future__ import annotations


def N_(msgid: str) -> str:
    """Marks a msgid for the catalogs; translated when shown."""
    return msgid


# --- answers (bot/layout.py) ---------------------------------------------------------------
NOT_COVERED = N_("The articles don't seem to cover this. The closest passages:")
NO_HITS = N_("The articles don't say anything about this.")
CANT_SEARCH = N_("Can't search that: {reason}")
EMPTY_QUESTION = N_("the question is empty; type a question, e.g. {example}")
NOTHING_TO_SEARCH = N_("nothing to search for in {question}: it has only question words, stopwords or "
                       "punctuation; ask with the words you want found")
UNKNOWN_WORDS = N_("nothing to search for in {question}: its words are unknown to the articles "
                   "(they are read as Chinese and English)")
CONTRADICTED = N_("(the articles cover {said}, not {asked})")  # years: a question about one they never name
CUT_NOTICE = N_("(question cut to its first {length} characters)")
PARTIAL = N_("(partial answer: shards {shards} of the index could not be reached; these passages come from the others)")
EXAMPLE = N_("商汤在哪里成立了智慧医疗实验室？")

# --- the REPL (bot/terminal/repl.py) -------------------------------------------------------
REPL_BANNER = N_("qabot: {articles} articles, {passages} passages loaded. "
                 "Ask a question; :help for commands, Ctrl-D to quit.")
REPL_HELP = N_("""Ask a question in Chinese or English; a follow-up uses the questions before it.
  :more        the next results
  :open N      the whole paragraph of result N (:open N all: the whole article)
  :source N    the file and line result N comes from
  :k N         show N results per answer (now {k})
  :reset       forget the conversation: the next question starts afresh
  :reload      re-read the articles (only changed ones are re-indexed)
  :add SOURCE  add a file, folder or http(s) URL to the articles, then re-index
  :help        this help
  :quit        leave (or Ctrl-D); Ctrl-C cancels the line being typed""")
MORE_USAGE = N_("Usage: :more (no arguments); :k N changes how many results each step shows.")
NOTHING_YET = N_("Nothing to show more of yet: ask a question first.")
NO_MORE = N_("No more results: all {shown} passages that match are shown.")
OPEN_USAGE = N_("Usage: :open N shows the whole paragraph of result N; :open N all the whole article.")
SOURCE_USAGE = N_("Usage: :source N shows the file and line result N comes from.")
NO_RESULTS_YET = N_("No results to open yet: ask a question first.")
NO_RESULT = N_("No result {n}: results 1 to {shown} are shown.")
FORGOTTEN = N_("Conversation forgotten: the next question starts afresh.")
K_NOW = N_("Showing {k} results per answer; :k N changes it.")
K_USAGE = N_("Usage: :k N, with N a whole number from 1 to {most}.")
K_SET = N_("Showing {k} results per answer.")
UNKNOWN_COMMAND = N_("Unknown command :{name}. Commands: :help :more :open N :source N :k N :reset :reload :add :quit")
UNKNOWN_COMMAND_HINT = N_("Unknown command :{name}. Did you mean :{close}? "
                          "Commands: :help :more :open N :source N :k N :reset :reload :add :quit")
CANCELLED = N_("Cancelled.")
ADD_USAGE = N_("Usage: :add PATH|URL … adds article files, folders or web pages to the corpus.")
ADD_UNAVAILABLE = N_("Adding is not available here.")
RELOAD_UNAVAILABLE = N_("Reloading is not available here.")
RELOAD_RUNNING = N_("A reload is already running.")
RELOADED = N_("Reloaded: {articles} articles, {passages} passages (was {old_articles} and {old_passages}).")

# --- citations (bot/layout.py) -------------------------------------------------------------
PARAGRAPH = N_("para. {n}")  # where a passage is: its paragraph, when the article has several
SENTENCE = N_("sentence {n}")  # else the sentence of the article it starts at

# --- Telegram (bot/telegram/) --------------------------------------------------------------
MORE_PASSAGES = N_("More passages for {question}:")
TRY_OTHER_WORDS = N_("{verdict} Try other words, or /help.")
CLOSEST = N_("(closest) {title}")
THE_BOT = N_("the bot")
# HTML: the tags are kept, the values arrive escaped
TELEGRAM_HELP = N_("""<b>I answer questions from a collection of articles</b>, quoting the passages that say so.
I know {articles} articles ({passages} passages) from {corpus}.

Just send a question, e.g. {example} — or /ask followed by it.
A follow-up may lean on your earlier questions; /reset forgets them.
In groups, use /ask, mention {mention}, or reply to one of my messages.
In any chat, type {mention} and a question to share a passage.
Under each answer: more results, the full paragraph or article, and 👍/👎 feedback.""")
RESET_DONE = N_("Forgot the earlier questions; the next one starts afresh.")
ASK_USAGE = N_("Put the question after /ask, e.g. {example}")  # HTML: example arrives as <i>/ask …</i>
ASK_ME = N_("Yes? Ask me a question, e.g. {example}")
TOO_FAST = N_("You're asking faster than {limit} questions a minute; please try again in {seconds} s. "
              "Until then I won't answer, so there's no need to repeat the question.")
MEDIA_HINT = N_("I answer text questions: please type yours (a photo or file with a caption counts as its caption).")
INLINE_EMPTY = N_("Type a question after my name")
INLINE_PRIVATE = N_("Sorry, this bot is private")
INLINE_TOO_FAST = N_("Too many questions; wait a moment")
REFUSAL = N_("Sorry, this bot answers only its listed users and chats. "
             "Ask its owner to add your user id ({user}) to telegram.allowed_users.")
BUTTON_ERROR = N_("Sorry, something went wrong. Please try again.")
ANSWER_ERROR = N_("Sorry, something went wrong while answering. Please try again.")
# buttons under an answer, and what pressing them says
PARAGRAPH_BUTTON = N_("¶ {rank}")
ARTICLE_BUTTON = N_("📰 Article {rank}")
BACK_BUTTON = N_("◀ Back")
MORE_BUTTON = N_("More results ▶")
WHOLE_ARTICLE_BUTTON = N_("📰 Whole article")
EXPIRED = N_("This answer has expired; please ask again.")
NO_PAGE = N_("No such page.")
NO_PASSAGE = N_("No such passage.")
ARTICLE_GONE = N_("That article is no longer in the collection (the articles were reloaded). Please ask again.")
ARTICLE_CUT = N_("(… {left} more messages' worth of this article left out; see {source})")
UNKNOWN_VOTE = N_("Unknown vote.")
ALREADY_NOTED = N_("Already noted, thanks!")
THANKS = N_("Thanks for the feedback!")
# the command menu (setMyCommands, one list per language)
COMMAND_ASK = N_("answer a question from the articles")
COMMAND_HELP = N_("what I know and how to ask")
COMMAND_RESET = N_("forget earlier questions in this chat")
