#!/usr/bin/env node
'use strict';

/*
 * Bot API emulator for end-to-end tests of Samverkansboten.
 *
 * Starts `telegram-test-api` (npm, pinned to 4.2.1 in the repo's package.json)
 * on 127.0.0.1 behind a small compatibility shim so that python-telegram-bot 22
 * can talk to it as if it were the real Bot API.
 *
 * Usage:
 *   node tests/telegram_emulator/start.js [--port N] [--exit-with-stdin] [--verbose]
 *   (port also from $TELEGRAM_EMULATOR_PORT; default 9000; 0 = pick a free port)
 *
 * When listening, prints exactly one line to stdout:
 *   TELEGRAM_EMULATOR_READY {"host":"127.0.0.1","port":N,"url":"http://127.0.0.1:N"}
 *
 * HOW THE SHIM IS BUILT
 * The emulator registers its routes (and a final "Route not found" handler) in
 * the TelegramServer constructor, so routes cannot be replaced afterwards
 * without poking at Express internals. Instead we never call emulator.start():
 * we run our own Express app in front of it. The bot-facing routes
 * (/bot<token>/<method>) are all answered here, re-using the emulator's storage
 * and methods (addBotMessage, addUserMessage, deleteMessage, ...), and the
 * client-facing routes we do not need to change (/getUpdates for clients,
 * /getUpdatesHistory) fall through to the emulator's own Express app.
 * Each deviation from the stock emulator is marked "FIX:" below with the reason.
 *
 * Extra client-side route added by the shim (not part of telegram-test-api):
 *   GET|POST /shim/state -> per-method call counters, long-poll statistics,
 *   callback-query answers, chat actions and bot commands (for assertions).
 */

const crypto = require('crypto');
const http = require('http');
const { createRequire } = require('module');

const TelegramServer = require('telegram-test-api');

// Use the emulator's own copy of Express (a dependency of telegram-test-api)
// instead of relying on npm hoisting it to the top-level node_modules.
const emulatorRequire = createRequire(require.resolve('telegram-test-api'));
const express = emulatorRequire('express');

const HOST = '127.0.0.1';
const READY_PREFIX = 'TELEGRAM_EMULATOR_READY ';
// Upper bound for how long one getUpdates call may be held open (seconds).
const MAX_LONG_POLL_SECONDS = 60;
// Real Bot API limits that we check so tests fail like production would.
const MAX_TEXT_LENGTH = 4096;
const MAX_CAPTION_LENGTH = 1024;
const BOT_COMMAND_RE = /^[a-z0-9_]{1,32}$/;

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const opts = {
    port: process.env.TELEGRAM_EMULATOR_PORT !== undefined
      ? process.env.TELEGRAM_EMULATOR_PORT : '9000',
    exitWithStdin: false,
    verbose: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--port') {
      opts.port = argv[++i];
    } else if (arg.startsWith('--port=')) {
      opts.port = arg.slice('--port='.length);
    } else if (arg === '--exit-with-stdin') {
      opts.exitWithStdin = true;
    } else if (arg === '--verbose') {
      opts.verbose = true;
    } else if (/^\d+$/.test(arg)) {
      opts.port = arg;
    } else {
      throw new Error(`unknown argument: ${arg}`);
    }
  }
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`invalid port: ${opts.port}`);
  }
  opts.port = port;
  return opts;
}

// ---------------------------------------------------------------- helpers

class ApiError extends Error {
  constructor(code, description) {
    super(description);
    this.code = code;
    this.description = description;
  }
}

function badRequest(description) {
  return new ApiError(400, `Bad Request: ${description}`);
}

// PTB sends parameters as form fields whose non-string values are JSON encoded
// ("10", "true", '{"inline_keyboard": ...}'); JSON clients send real values.
function parseJsonField(value) {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch (_err) {
    throw badRequest(`can't parse JSON field: ${value.slice(0, 100)}`);
  }
}

function toInt(value, fallback) {
  if (value === undefined || value === null || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw badRequest(`expected a number, got ${value}`);
  return Math.trunc(n);
}

function toBool(value) {
  return value === true || value === 'true' || value === '1' || value === 1;
}

function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

function sha256(buffer) {
  return crypto.createHash('sha256').update(buffer).digest('hex');
}

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys(value[k])]));
  }
  return value;
}

function sameJson(a, b) {
  return JSON.stringify(sortKeys(a === undefined ? null : a))
    === JSON.stringify(sortKeys(b === undefined ? null : b));
}

// Width/height of PNG and JPEG uploads, so sendPhoto can return a plausible
// PhotoSize. Anything else reports 0x0.
function imageSize(buf) {
  if (buf.length >= 24 && buf.readUInt32BE(0) === 0x89504e47) {
    return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
  }
  if (buf.length >= 4 && buf[0] === 0xff && buf[1] === 0xd8) {
    let i = 2;
    while (i + 9 < buf.length) {
      if (buf[i] !== 0xff) { i++; continue; }
      const marker = buf[i + 1];
      const len = buf.readUInt16BE(i + 2);
      // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the size.
      if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
        return { width: buf.readUInt16BE(i + 7), height: buf.readUInt16BE(i + 5) };
      }
      i += 2 + len;
    }
  }
  return { width: 0, height: 0 };
}

// ---------------------------------------------------------------- emulator + state

const emulator = new TelegramServer({ host: HOST });

const state = {
  startedAt: Date.now(),
  methodCalls: {}, // Bot API method name -> number of HTTP calls
  longPolls: { count: 0, heldMsTotal: 0, heldMsMax: 0, returnedEmpty: 0 },
  callbackAnswers: [],
  chatActions: [],
  commands: {}, // `${token}|${scope}|${lang}` -> [{command, description}]
  knownChats: new Map(), // String(chat id) -> chat object seen in user updates
  issuedCallbackIds: new Set(),
  answeredCallbackIds: new Set(),
  fileCounter: 0,
};

function botUser(token) {
  // FIX: getMe lacks `is_bot` (a required field of telegram.User in PTB 22, so
  // Application.initialize() fails). Like the real API, derive the bot id
  // from the numeric token prefix; keep the emulator's names.
  const match = /^(\d+):/.exec(String(token));
  return {
    id: match ? Number(match[1]) : 666,
    is_bot: true,
    first_name: 'Test First name',
    username: process.env.TELEGRAM_EMULATOR_BOT_USERNAME || 'TestNameBot',
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
  };
}

function chatFor(chatId) {
  const known = state.knownChats.get(String(chatId));
  if (known) return known;
  const id = Number(chatId);
  if (!Number.isFinite(id)) {
    // "@channelusername" style chat ids.
    const name = String(chatId).replace(/^@/, '');
    return { id: -1000000000000, type: 'channel', title: name, username: name };
  }
  return id < 0
    ? { id, type: 'group', title: 'Test group' }
    : { id, type: 'private', first_name: 'Test user' };
}

function rememberChat(chat) {
  if (chat && chat.id !== undefined) state.knownChats.set(String(chat.id), chat);
}

function inlineMarkup(markup) {
  return markup && typeof markup === 'object' && Array.isArray(markup.inline_keyboard)
    ? { inline_keyboard: markup.inline_keyboard } : undefined;
}

// Render a stored bot message (emulator storage entry) as a Bot API Message.
function toApiMessage(entry) {
  const m = entry.message;
  const out = {
    message_id: entry.messageId,
    from: botUser(entry.botToken),
    chat: chatFor(m.chat_id),
    // FIX: the emulator stores and returns `date` in milliseconds; the Bot API
    // (and PTB, which turns it into a datetime) uses Unix seconds.
    date: Math.floor(entry.time / 1000),
  };
  if (m.edit_date !== undefined) out.edit_date = m.edit_date;
  if (m.text !== undefined) out.text = String(m.text);
  if (Array.isArray(m.entities)) out.entities = m.entities;
  if (m.caption !== undefined) out.caption = String(m.caption);
  if (Array.isArray(m.caption_entities)) out.caption_entities = m.caption_entities;
  if (m.document !== undefined) out.document = m.document;
  if (m.photo !== undefined) out.photo = m.photo;
  const markup = inlineMarkup(m.reply_markup);
  if (markup) out.reply_markup = markup;
  return out;
}

function findBotEntry(token, chatId, messageId) {
  return emulator.storage.botMessages.find((e) => e.botToken === token
    && String(e.message.chat_id) === String(chatId)
    && e.messageId === Number(messageId));
}

function addBotMessage(token, message) {
  const sent = emulator.addBotMessage(message, token);
  return emulator.storage.botMessages.find((e) => e.messageId === sent.message_id
    && e.botToken === token);
}

function requireChatId(params) {
  if (params.chat_id === undefined || params.chat_id === '') {
    throw badRequest('chat_id is empty');
  }
  return params.chat_id;
}

// FIX: callback-query updates lack `chat_instance` (required by PTB's
// CallbackQuery). The emulator formats every update (getUpdates and webhook
// delivery) through this static method, so patching it fixes both paths.
// Also drop the client-only `botToken` field the emulator leaks into messages.
const originalFormatUpdate = TelegramServer.formatUpdate;
TelegramServer.formatUpdate = function formatUpdate(update) {
  const out = originalFormatUpdate.call(this, update);
  if (out.message) {
    delete out.message.botToken;
  }
  if (out.callback_query) {
    const cq = update.callbackQuery;
    const chat = cq.message && cq.message.chat;
    out.callback_query.chat_instance = cq.chat_instance
      || `emulator-chat-instance-${chat ? chat.id : 'unknown'}`;
  }
  return out;
};

// ---------------------------------------------------------------- long polling

// FIX: the emulator's getUpdates ignores `timeout` and answers at once, so PTB
// re-polls in a tight loop. We hold the request until an update for the token
// exists or `timeout` seconds pass, and wake held requests from the
// emulator's "new user update" events.
const pollWaiters = new Set();
function wakePollers() {
  for (const waiter of [...pollWaiters]) waiter();
}
for (const event of ['AddedUserMessage', 'AddedUserCommand', 'AddedUserCallbackQuery']) {
  emulator.on(event, wakePollers);
}

// FIX: the emulator marks updates read as soon as it returns them and ignores
// `offset`/`limit`. The real API keeps an update until a later call confirms
// it with offset > update_id, so an update whose response was lost (e.g. the
// client cancelled the request) is delivered again. We implement that.
function confirmUpdates(token, offset) {
  if (offset > 0) {
    for (const u of emulator.storage.userMessages) {
      if (u.botToken === token && u.updateId < offset) u.isRead = true;
    }
  } else if (offset < 0) {
    const pending = pendingUpdates(token, Infinity);
    pending.slice(0, Math.max(0, pending.length + offset)).forEach((u) => { u.isRead = true; });
  }
}

function pendingUpdates(token, limit) {
  return emulator.storage.userMessages
    .filter((u) => u.botToken === token && !u.isRead)
    .sort((a, b) => a.updateId - b.updateId)
    .slice(0, limit);
}

function getUpdates({ token, params, res }) {
  if (emulator.webhooks[token]) {
    // Same answer as the real API, instead of silently returning nothing.
    throw new ApiError(409, "Conflict: can't use getUpdates method while webhook is active;"
      + ' use deleteWebhook to delete the webhook first');
  }
  const offset = toInt(params.offset, 0);
  const limit = Math.min(100, Math.max(1, toInt(params.limit, 100)));
  const timeout = Math.min(MAX_LONG_POLL_SECONDS, Math.max(0, Number(params.timeout) || 0));
  confirmUpdates(token, offset);

  const started = Date.now();
  let timer = null;
  let done = false;
  let waiter = null;
  const respond = (force) => {
    if (done) return;
    const updates = pendingUpdates(token, limit);
    if (updates.length === 0 && !force) return;
    done = true;
    pollWaiters.delete(waiter);
    clearTimeout(timer);
    const held = Date.now() - started;
    state.longPolls.count++;
    state.longPolls.heldMsTotal += held;
    state.longPolls.heldMsMax = Math.max(state.longPolls.heldMsMax, held);
    if (updates.length === 0) state.longPolls.returnedEmpty++;
    res.json({ ok: true, result: updates.map((u) => TelegramServer.formatUpdate(u)) });
  };

  respond(timeout === 0);
  if (done) return;
  waiter = () => respond(false);
  pollWaiters.add(waiter);
  timer = setTimeout(() => respond(true), timeout * 1000);
  // Client gave up (PTB cancels the pending poll on shutdown): forget the
  // request; its updates stay pending until confirmed by a later offset.
  res.on('close', () => {
    if (done) return;
    done = true;
    pollWaiters.delete(waiter);
    clearTimeout(timer);
  });
}

// ---------------------------------------------------------------- bot methods

const botMethods = {
  getMe({ token }) {
    return botUser(token);
  },

  getUpdates,

  sendMessage({ token, params }) {
    const chatId = requireChatId(params);
    if (params.text === undefined || String(params.text).trim() === '') {
      throw badRequest('message text is empty');
    }
    if (String(params.text).length > MAX_TEXT_LENGTH) throw badRequest('message is too long');
    const message = { ...params };
    delete message.botToken;
    message.chat_id = chatId;
    // FIX: the emulator's sendMessage answer has `date` in milliseconds and a
    // hard-coded private chat; we answer with toApiMessage() instead.
    return toApiMessage(addBotMessage(token, message));
  },

  editMessageText({ token, params }) {
    // FIX: the emulator answers `result: null`; the Bot API returns the edited
    // Message (or True for inline messages), and PTB expects that.
    if (params.inline_message_id !== undefined) return true; // not tracked
    const entry = findBotEntry(token, requireChatId(params), params.message_id);
    if (!entry) throw badRequest('message to edit not found');
    if (entry.message.text === undefined) throw badRequest('there is no text in the message to edit');
    if (params.text === undefined || String(params.text).trim() === '') {
      throw badRequest('message text is empty');
    }
    if (String(params.text).length > MAX_TEXT_LENGTH) throw badRequest('message is too long');
    // FIX: like the real API, an edit without reply_markup removes the inline
    // keyboard (the emulator kept the old one), and an edit that changes
    // nothing is rejected.
    const markup = inlineMarkup(parseJsonField(params.reply_markup));
    if (String(params.text) === String(entry.message.text)
      && sameJson(markup, inlineMarkup(entry.message.reply_markup))) {
      throw badRequest('message is not modified: specified new message content and reply markup'
        + ' are exactly the same as a current content and reply markup of the message');
    }
    entry.message.text = String(params.text);
    entry.message.parse_mode = params.parse_mode;
    entry.message.entities = params.entities !== undefined
      ? parseJsonField(params.entities) : undefined;
    if (markup) entry.message.reply_markup = markup; else delete entry.message.reply_markup;
    entry.message.edit_date = nowSeconds();
    emulator.emit('EditedMessageText');
    return toApiMessage(entry);
  },

  editMessageReplyMarkup({ token, params }) {
    // FIX: same `result: null` problem as editMessageText; also, the emulator
    // ignored edits that remove the keyboard (no reply_markup).
    if (params.inline_message_id !== undefined) return true;
    const entry = findBotEntry(token, requireChatId(params), params.message_id);
    if (!entry) throw badRequest('message to edit not found');
    const markup = inlineMarkup(parseJsonField(params.reply_markup));
    if (sameJson(markup, inlineMarkup(entry.message.reply_markup))) {
      throw badRequest('message is not modified: specified new message content and reply markup'
        + ' are exactly the same as a current content and reply markup of the message');
    }
    if (markup) entry.message.reply_markup = markup; else delete entry.message.reply_markup;
    entry.message.edit_date = nowSeconds();
    emulator.emit('EditedMessageReplyMarkup');
    return toApiMessage(entry);
  },

  answerCallbackQuery({ params }) {
    // FIX: the emulator answers `result: null` (Bot API: True) and records
    // nothing. We record the answer for assertions and, like Telegram, reject
    // unknown or already answered query ids.
    const id = String(params.callback_query_id);
    if (!state.issuedCallbackIds.has(id) || state.answeredCallbackIds.has(id)) {
      throw badRequest('query is too old and response timeout expired or query ID is invalid');
    }
    state.answeredCallbackIds.add(id);
    state.callbackAnswers.push({
      callback_query_id: id,
      text: params.text,
      show_alert: toBool(params.show_alert),
      url: params.url,
      cache_time: params.cache_time !== undefined ? toInt(params.cache_time, 0) : undefined,
    });
    return true;
  },

  deleteMessage({ params }) {
    // FIX: the emulator answers `result: null`; the Bot API returns True.
    const deleted = emulator.deleteMessage(Number(requireChatId(params)), Number(params.message_id));
    if (!deleted) throw badRequest('message to delete not found');
    return true;
  },

  setWebhook({ token, params }) {
    // FIX: the emulator answers `result: null` (Bot API: True) and fails with
    // HTTP 500 on an empty url, which the real API treats as "remove webhook".
    if (!params.url) emulator.deleteWebhook(token);
    else emulator.setWebhook({ ...params }, token);
    return true;
  },

  deleteWebhook({ token, params }) {
    // FIX: `drop_pending_updates` was ignored.
    emulator.deleteWebhook(token);
    if (toBool(params.drop_pending_updates)) {
      pendingUpdates(token, Infinity).forEach((u) => { u.isRead = true; });
    }
    return true;
  },

  // ---- FIX: methods the emulator does not have at all. Its catch-all answers
  // HTTP 500 without a `description`, which PTB reports as a NetworkError
  // "Internal Server Error (500)". Plausible implementations that record what
  // the bot did (see /shim/state and /getUpdatesHistory):

  getWebhookInfo({ token }) {
    const webhook = emulator.webhooks[token];
    return {
      url: webhook ? webhook.url : '',
      has_custom_certificate: false,
      pending_update_count: pendingUpdates(token, Infinity).length,
    };
  },

  setMyCommands({ token, params }) {
    const commands = parseJsonField(params.commands);
    if (!Array.isArray(commands)) throw badRequest('commands must be an array');
    if (commands.length > 100) throw badRequest('too many commands');
    for (const c of commands) {
      // Same validation as Telegram (BOT_COMMAND_INVALID / BOT_COMMAND_DESCRIPTION_INVALID).
      if (!c || !BOT_COMMAND_RE.test(String(c.command))) throw badRequest('BOT_COMMAND_INVALID');
      const description = String(c.description || '');
      if (description.length < 1 || description.length > 256) {
        throw badRequest('BOT_COMMAND_DESCRIPTION_INVALID');
      }
    }
    state.commands[commandsKey(token, params)] = commands
      .map((c) => ({ command: String(c.command), description: String(c.description) }));
    return true;
  },

  getMyCommands({ token, params }) {
    return state.commands[commandsKey(token, params)] || [];
  },

  deleteMyCommands({ token, params }) {
    delete state.commands[commandsKey(token, params)];
    return true;
  },

  sendChatAction({ token, params }) {
    state.chatActions.push({
      token, chat_id: requireChatId(params), action: params.action, time: Date.now(),
    });
    return true;
  },

  sendDocument(ctx) {
    return sendMedia(ctx, 'document');
  },

  sendPhoto(ctx) {
    return sendMedia(ctx, 'photo');
  },
};

function commandsKey(token, params) {
  const scope = params.scope !== undefined ? parseJsonField(params.scope) : { type: 'default' };
  return `${token}|${JSON.stringify(sortKeys(scope))}|${params.language_code || ''}`;
}

// sendDocument / sendPhoto: accepts a multipart upload (as PTB sends an
// InputFile, possibly via an attach:// reference) or a file_id/URL string.
// The stored bot message (visible through /getUpdatesHistory) gets an extra
// `upload` field with filename, MIME type, size and sha256 for assertions.
function sendMedia({ token, params, files }, field) {
  const chatId = requireChatId(params);
  let ref = params[field];
  let file = files[field];
  if (!file && typeof ref === 'string' && ref.startsWith('attach://')) {
    file = files[ref.slice('attach://'.length)];
    ref = undefined;
  }
  if (!file && (ref === undefined || ref === '')) {
    throw badRequest(`there is no ${field} in the request`);
  }
  if (params.caption !== undefined && String(params.caption).length > MAX_CAPTION_LENGTH) {
    throw badRequest('message caption is too long');
  }
  state.fileCounter++;
  const upload = file
    ? {
      field, filename: file.filename, mime_type: file.mimeType, size: file.buffer.length,
      sha256: sha256(file.buffer),
    }
    : { field, reference: String(ref) };
  const fileId = file ? `emulator-file-${state.fileCounter}` : String(ref);
  const fileUniqueId = `emulator-unique-${file ? upload.sha256.slice(0, 16) : state.fileCounter}`;

  const message = { chat_id: chatId, upload };
  if (params.reply_markup !== undefined) message.reply_markup = params.reply_markup;
  if (params.caption !== undefined) message.caption = String(params.caption);
  if (params.caption_entities !== undefined) {
    message.caption_entities = parseJsonField(params.caption_entities);
  }
  if (field === 'document') {
    message.document = { file_id: fileId, file_unique_id: fileUniqueId };
    const name = file ? file.filename : String(ref).split('/').pop();
    if (name) message.document.file_name = name;
    if (file) {
      message.document.mime_type = file.mimeType;
      message.document.file_size = file.buffer.length;
    }
  } else {
    const size = file ? imageSize(file.buffer) : { width: 0, height: 0 };
    const photo = { file_id: fileId, file_unique_id: fileUniqueId, ...size };
    if (file) photo.file_size = file.buffer.length;
    message.photo = [photo];
  }
  return toApiMessage(addBotMessage(token, message));
}

// ---------------------------------------------------------------- HTTP wiring

const app = express();

// FIX: the emulator has no multipart parser, so uploads (sendDocument,
// sendPhoto, ...) arrive without parameters. Parse multipart bodies with
// Node's built-in WHATWG FormData parser (no extra npm dependency).
app.use('/bot:token/:method', express.raw({ type: 'multipart/form-data', limit: '60mb' }));
app.use('/bot:token/:method', (req, res, next) => {
  req.files = {};
  if (!Buffer.isBuffer(req.body)) { next(); return; }
  new Response(req.body, { headers: { 'content-type': req.headers['content-type'] } })
    .formData()
    .then(async (form) => {
      const fields = {};
      for (const [name, value] of form) {
        if (typeof value === 'string') {
          fields[name] = value;
        } else {
          req.files[name] = {
            filename: value.name,
            mimeType: value.type || 'application/octet-stream',
            buffer: Buffer.from(await value.arrayBuffer()),
          };
        }
      }
      req.body = fields;
      next();
    })
    .catch((err) => sendApiError(res, badRequest(`can't parse multipart body: ${err.message}`)));
});
app.use(express.json({ limit: '10mb' }));
app.use(express.urlencoded({ extended: true, limit: '10mb' }));

function sendApiError(res, err) {
  const code = err instanceof ApiError ? err.code : 500;
  const description = err instanceof ApiError ? err.description : `Internal Server Error: ${err.message}`;
  if (!(err instanceof ApiError)) console.error('[telegram-emulator] handler crashed:', err);
  if (!res.headersSent) res.status(code).json({ ok: false, error_code: code, description });
}

let verbose = false;

app.all('/bot:token/:method', (req, res) => {
  if (req.method !== 'GET' && req.method !== 'POST') {
    sendApiError(res, new ApiError(405, `Method Not Allowed: HTTP ${req.method}`));
    return;
  }
  const { token } = req.params;
  // Bot API method names are case-insensitive.
  const name = Object.keys(botMethods)
    .find((m) => m.toLowerCase() === req.params.method.toLowerCase());
  const counterName = name || req.params.method;
  state.methodCalls[counterName] = (state.methodCalls[counterName] || 0) + 1;
  const params = { ...req.query, ...(req.body && typeof req.body === 'object' ? req.body : {}) };
  if (verbose) console.error(`[telegram-emulator] ${counterName} ${JSON.stringify(params)}`);
  if (!name) {
    // FIX: unknown methods got HTTP 500 (PTB: NetworkError, looks like a
    // flaky connection). Answer like a Bot API error so PTB raises BadRequest
    // naming the method.
    sendApiError(res, badRequest(`method ${req.params.method} is not implemented by the `
      + 'telegram-test-api emulator shim (tests/telegram_emulator/start.js)'));
    return;
  }
  try {
    const result = botMethods[name]({ token, params, files: req.files || {}, res });
    if (name !== 'getUpdates') res.json({ ok: true, result });
  } catch (err) {
    sendApiError(res, err);
  }
});

// Client (test) side: the emulator's /sendMessage, /sendCommand and
// /sendCallback fire-and-forget the update and answer `result: null`; a
// malformed body (e.g. a command without entities) becomes an unhandled
// promise rejection that kills Node 20. We validate first, await the insert
// and answer with the new update_id / message_id (FIX).
function clientBody(req) {
  const body = req.body && typeof req.body === 'object' ? { ...req.body } : {};
  if (!body.botToken) throw badRequest('`botToken` is required');
  if (!body.from || body.from.id === undefined) throw badRequest('`from` user is required');
  if (body.date === undefined) body.date = nowSeconds();
  return body;
}

function clientRoute(path, handler) {
  app.post(path, (req, res) => {
    Promise.resolve()
      .then(() => handler(clientBody(req)))
      .then((result) => res.json({ ok: true, result }))
      .catch((err) => sendApiError(res, err));
  });
}

async function addUserMessage(body, isCommand) {
  if (!body.chat || body.chat.id === undefined || !body.chat.type) {
    throw badRequest('`chat` with id and type is required');
  }
  if (typeof body.text !== 'string' || body.text === '') throw badRequest('`text` is required');
  if (isCommand && !Array.isArray(body.entities)) {
    const match = /^\/\S+/.exec(body.text);
    if (!match) throw badRequest('a command must start with "/"');
    body.entities = [{ offset: 0, length: match[0].length, type: 'bot_command' }];
  }
  rememberChat(body.chat);
  const updateId = emulator.updateId;
  const messageId = emulator.messageId;
  if (isCommand) await emulator.addUserCommand(body);
  else await emulator.addUserMessage(body);
  return { update_id: updateId, message_id: messageId };
}

clientRoute('/sendMessage', (body) => addUserMessage(body, false));
clientRoute('/sendCommand', (body) => addUserMessage(body, true));

clientRoute('/sendCallback', async (body) => {
  if (typeof body.data !== 'string') throw badRequest('`data` is required');
  // Extension: instead of a full `message`, pass `message_id` (+ `chat_id`)
  // of a bot message; the shim fills in that message as the bot sent it
  // (text, inline keyboard, chat, date in seconds).
  if (!body.message) {
    const entry = emulator.storage.botMessages.find((e) => e.botToken === body.botToken
      && e.messageId === Number(body.message_id)
      && (body.chat_id === undefined || String(e.message.chat_id) === String(body.chat_id)));
    if (!entry) throw badRequest(`bot message ${body.message_id} not found for this token/chat`);
    body.message = toApiMessage(entry);
  }
  delete body.message_id;
  delete body.chat_id;
  const updateId = emulator.updateId;
  const callbackId = String(emulator.callbackId);
  state.issuedCallbackIds.add(callbackId);
  await emulator.addUserCallback(body);
  return { update_id: updateId, callback_query_id: callbackId };
});

app.all('/shim/state', (_req, res) => {
  res.json({
    ok: true,
    result: {
      uptime_ms: Date.now() - state.startedAt,
      method_calls: state.methodCalls,
      long_polls: state.longPolls,
      pending_long_polls: pollWaiters.size,
      callback_answers: state.callbackAnswers,
      chat_actions: state.chatActions,
      commands: state.commands,
    },
  });
});

// Everything else (/getUpdates for clients, /getUpdatesHistory, 404s) is
// handled by the emulator's own Express app.
app.use(emulator.webServer);

// ---------------------------------------------------------------- startup

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`[telegram-emulator] ${err.message}`);
    process.exit(2);
  }
  verbose = opts.verbose;

  // A stray rejection inside the emulator must not take the server down
  // silently in the middle of a test run.
  process.on('unhandledRejection', (err) => {
    console.error('[telegram-emulator] unhandled rejection:', err);
  });

  const server = http.createServer(app);
  let stopping = false;
  const stop = (reason) => {
    if (stopping) return;
    stopping = true;
    console.error(`[telegram-emulator] stopping (${reason})`);
    pollWaiters.clear();
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (opts.exitWithStdin) {
    // The parent (test runner) holds our stdin open; if it dies without
    // cleaning up, stdin closes and we exit instead of lingering.
    process.stdin.on('end', () => stop('stdin closed'));
    process.stdin.on('close', () => stop('stdin closed'));
    process.stdin.resume();
  }

  server.on('error', (err) => {
    console.error(`[telegram-emulator] cannot listen on ${HOST}:${opts.port}: ${err.message}`);
    process.exit(1);
  });
  server.listen(opts.port, HOST, () => {
    const { port } = server.address();
    emulator.config.port = port;
    emulator.config.apiURL = `http://${HOST}:${port}`;
    const info = { host: HOST, port, url: `http://${HOST}:${port}` };
    process.stdout.write(`${READY_PREFIX}${JSON.stringify(info)}\n`);
  });
}

main();
