'use strict';
// Drives discord.js-selfbot-v13 (the library the original Midjourney API project is built on) against the simulator:
// log in, /imagine in a guild channel, wait for the grid, click U1, wait for the upscale. The only change from a real
// Discord setup is the base URL (client option `http.api`); the REST client always uses an https agent, so the
// simulator runs with `--tls` and the caller trusts its certificate through NODE_EXTRA_CA_CERTS.
//
// Environment: SIM_BASE (https://127.0.0.1:PORT), SIM_TOKEN, SIM_CHANNEL_ID, SIM_BOT_ID, SIM_PROMPT, SIM_TIMEOUT_MS and
// SIM_CAPABILITIES (IDENTIFY capabilities; the library's default 0, or e.g. 16381 like the web client).
// Output: one JSON object per line on stdout ({"event": ...}); exit status 0 only when every step succeeded.

const { Client } = require('discord.js-selfbot-v13');

const env = name => {
  const value = process.env[name];
  if (!value) {
    emit({ event: 'error', step: 'config', message: `${name} is not set` });
    process.exit(2);
  }
  return value;
};

function emit(record) {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

const base = env('SIM_BASE');
const token = env('SIM_TOKEN');
const channelId = env('SIM_CHANNEL_ID');
const botId = env('SIM_BOT_ID');
const prompt = env('SIM_PROMPT');
const timeoutMs = Number(process.env.SIM_TIMEOUT_MS || 60000);
const capabilities = Number(process.env.SIM_CAPABILITIES || 0);

const client = new Client({
  checkUpdate: false, // would ask registry.npmjs.com for a newer version
  http: { api: `${base}/api`, cdn: base },
  ws: { capabilities },
});

let step = 'login';
// Every REST call the library makes, with the simulator's status (the clone's body is drained so it cannot stall).
client.on('apiResponse', (request, response) => {
  emit({ event: 'rest', step, method: request.method.toUpperCase(), path: request.path, status: response.status });
  response.arrayBuffer().catch(() => {});
});
const deadline = setTimeout(() => fail(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);

function fail(error) {
  emit({ event: 'error', step, message: String(error?.message ?? error), cause: String(error?.cause?.error ?? '') });
  clearTimeout(deadline);
  client.destroy();
  process.exit(1);
}

function buttons(message) {
  return message.components.flatMap(row => row.components).filter(c => c.type === 'BUTTON');
}

function describe(message) {
  return {
    message_id: message.id,
    channel_id: message.channelId,
    author_id: message.author?.id,
    content: message.content,
    type: message.type,
    reference_id: message.reference?.messageId ?? null,
    attachments: [...message.attachments.values()].map(a => ({
      url: a.url,
      filename: a.name,
      width: a.width,
      height: a.height,
      content_type: a.contentType,
    })),
    custom_ids: buttons(message)
      .map(b => b.customId)
      .filter(Boolean),
  };
}

/** Resolves with the first message (created or edited) in the channel from the bot that satisfies `accept`. */
function waitForBotMessage(accept) {
  return new Promise(resolve => {
    const check = message => {
      if (message.partial || message.channelId !== channelId || message.author?.id !== botId) return;
      if (!accept(message)) return;
      client.off('messageCreate', onCreate);
      client.off('messageUpdate', onUpdate);
      resolve(message);
    };
    const onCreate = message => check(message);
    const onUpdate = (_old, message) => check(message);
    client.on('messageCreate', onCreate);
    client.on('messageUpdate', onUpdate);
  });
}

async function main() {
  const ready = new Promise(resolve => client.once('ready', resolve));
  await client.login(token);
  await ready;
  const channel = client.channels.cache.get(channelId);
  emit({
    event: 'ready',
    user_id: client.user.id,
    username: client.user.username,
    session_id: client.sessionId,
    guild_ids: [...client.guilds.cache.keys()],
    channel_found: Boolean(channel),
    member_found: Boolean(channel?.guild?.members.cache.get(client.user.id)),
  });
  if (!channel) throw new Error(`channel ${channelId} is not in the client's cache after READY`);

  step = 'fetch_bot';
  const bot = await client.users.fetch(botId, { force: true });
  emit({ event: 'bot', user_id: bot.id, username: bot.username, bot: bot.bot, application_id: bot.application?.id });

  step = 'imagine';
  const grid = waitForBotMessage(
    m => m.content.includes(prompt) && m.attachments.size > 0 && buttons(m).some(b => /::upsample::1::/.test(b.customId)),
  );
  const imagine = await channel.sendSlash(botId, 'imagine', prompt);
  emit({ event: 'imagine_ack', interaction_id: imagine.id, nonce: imagine.nonce ?? null });
  const gridMessage = await grid;
  emit({ event: 'grid', ...describe(gridMessage) });

  step = 'upscale';
  const u1 = buttons(gridMessage).find(b => /::upsample::1::/.test(b.customId));
  const upscale = waitForBotMessage(m => m.reference?.messageId === gridMessage.id && m.attachments.size > 0);
  const click = await gridMessage.clickButton(u1.customId);
  emit({ event: 'button_ack', interaction_id: click.id, custom_id: u1.customId });
  const upscaleMessage = await upscale;
  emit({ event: 'upscale', ...describe(upscaleMessage) });

  step = 'logout';
  clearTimeout(deadline);
  client.destroy();
  emit({ event: 'done' });
  process.exit(0);
}

main().catch(fail);
