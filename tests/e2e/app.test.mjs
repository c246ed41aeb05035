// The real app under Xvfb, driven over WebDriver: tauri-driver (on port
// 4444) starts WebKitWebDriver, which launches the windows' process,
// `gatehouse-app --open`; finding no Gatehouse running, it starts the tray
// (`gatehouse-tray`, the core) as a person's first click would.
// run.sh starts tauri-driver inside `dbus-run-session` with an unlocked
// gnome-keyring and a throwaway $HOME and $GATEHOUSE_HOME.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, execFile } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { Builder, By, until } from 'selenium-webdriver';

const root = path.resolve(import.meta.dirname, '../..');
const app = process.env.GATEHOUSE_APP ?? path.join(root, 'target/debug/gatehouse-app');
// The core's process, which the windows' process starts and which outlives it.
const tray = path.join(path.dirname(app), 'gatehouse-tray');
// The command line, for what the tests check from outside the app.
const gatehouse = process.env.GATEHOUSE_CLI ?? path.join(root, 'target/debug/gatehouse');
const home = process.env.GATEHOUSE_HOME;
const shots = path.join(root, 'target/e2e');
mkdirSync(shots, { recursive: true });
assert.ok(home, 'run.sh sets GATEHOUSE_HOME');

/** Starts the app with `args` and returns a WebDriver session on its main window. */
async function launch(args) {
  const capabilities = {
    browserName: 'wry',
    'tauri:options': { application: app, args: ['--open', ...args] },
  };
  // A previous instance still quitting would take this launch for a second
  // instance and end it.
  await waitForExit();
  return new Builder().usingServer('http://127.0.0.1:4444/').withCapabilities(capabilities).build();
}

/** Quits Gatehouse (the tray, as Quit in its menu does) and waits until
 * neither it nor a windows' process is left, so the next launch is a first
 * instance with a core of its own. */
async function waitForExit() {
  // Any process running the program, whatever its arguments; not the CLI,
  // whose path differs.
  const pattern = (program) => `^${program.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( |$)`;
  try {
    execFileSync('pkill', ['-TERM', '-f', pattern(tray)]);
  } catch {
    // pkill exits 1 when nothing matches
  }
  for (const program of [app, tray]) {
    let gone = false;
    for (let i = 0; i < 300 && !gone; i++) {
      try {
        execFileSync('pgrep', ['-f', pattern(program)], { encoding: 'utf8' });
        await new Promise((r) => setTimeout(r, 100));
      } catch {
        gone = true; // pgrep exits 1 when nothing matches
      }
    }
    if (!gone) throw new Error(`${path.basename(program)} did not exit after the session ended`);
  }
}

async function stateOf(driver, name, wanted, timeoutMs = 30_000) {
  const locator = By.css(`[data-server="${name}"] .state`);
  const el = await driver.wait(until.elementLocated(locator), timeoutMs);
  await driver.wait(async () => (await el.getText()).trim() === wanted, timeoutMs,
    `server ${name} never became ${wanted}`);
  return el;
}

async function screenshot(driver, name) {
  const file = path.join(shots, `${name}.png`);
  writeFileSync(file, await driver.takeScreenshot(), 'base64');
  return file;
}

after(waitForExit);

test('first run: the window shows the built-in demo server running with its tools', async () => {
  assert.ok(!existsSync(path.join(home, 'gatehouse.toml')), 'a first run starts without a config');
  const driver = await launch([]);
  try {
    assert.equal(await driver.getTitle(), 'Gatehouse');
    await stateOf(driver, 'demo', 'running');
    const tools = await driver.findElement(By.css('[data-server="demo"] .tool-count')).getText();
    assert.match(tools, /^4 tools$/);

    // Expanding the row shows each tool with its annotation badge.
    await driver.findElement(By.css('[data-server="demo"] button')).click();
    const deleteNote = await driver.wait(until.elementLocated(By.css('[data-tool="delete_note"]')), 5_000);
    assert.match(await deleteNote.getText(), /destructive/);
    const readNote = await driver.findElement(By.css('[data-tool="read_note"]'));
    assert.match(await readNote.getText(), /read-only/);

    // The logs panel shows the real server's log, Gatehouse's account included.
    const logs = await driver.wait(until.elementLocated(By.css('[data-server="demo"] .logs')), 5_000);
    await driver.wait(async () => /running, 4 tools/.test(await logs.getAttribute('textContent')), 10_000,
      'the demo server log never said it was running');

    const file = await screenshot(driver, 'servers');
    assert.ok(readFileSync(file).length > 10_000, 'a real screenshot');
    assert.match(readFileSync(path.join(home, 'gatehouse.toml'), 'utf8'), /\[servers\.demo\]/);
  } finally {
    await driver.quit();
    await waitForExit();
  }
});

test('the window stops and starts a server', async () => {
  const driver = await launch([]);
  try {
    await stateOf(driver, 'demo', 'running');
    await driver.findElement(By.css('[data-server="demo"] button')).click();
    const stop = await driver.wait(until.elementLocated(By.css('[data-server="demo"] .action-stop')), 5_000);
    await stop.click();
    await stateOf(driver, 'demo', 'stopped');
    // Start replaces Stop once the stop request has returned.
    const start = await driver.wait(until.elementLocated(By.css('[data-server="demo"] .action-start')), 10_000);
    await start.click();
    await stateOf(driver, 'demo', 'running');
    const logs = await driver.findElement(By.css('[data-server="demo"] .logs'));
    await driver.wait(async () => /stopped[\s\S]*started /.test(await logs.getAttribute('textContent')), 10_000,
      'the log never showed the stop and the new start');
    await screenshot(driver, 'restarted');
  } finally {
    await driver.quit();
    await waitForExit();
  }
});

test('a server that fails shows as failed with its reason, and the others still run', async () => {
  const config = path.join(home, 'broken.toml');
  writeFileSync(config, [
    '[servers.demo]', 'command = "gatehouse"', 'args = ["demo-server"]', '',
    '[servers.weather-api-with-a-rather-long-name-for-testing-the-layout]', 'command = "sh"',
    'args = ["-c", "echo \'WEATHER_API_KEY is not set\' >&2; exit 2"]', '',
  ].join('\n'));
  const driver = await launch(['--config', config]);
  try {
    const name = 'weather-api-with-a-rather-long-name-for-testing-the-layout';
    await stateOf(driver, name, 'failed');
    await stateOf(driver, 'demo', 'running');
    await screenshot(driver, 'failed');
    const detail = await driver.findElement(By.css(`[data-server="${name}"] .detail`));
    // WebKitWebDriver's visible-text heuristic returns '' for this
    // line-clamped element; the screenshot shows it, so read its text.
    const text = await driver.executeScript('return arguments[0].textContent', detail);
    assert.match(text, /exit status: 2.*WEATHER_API_KEY is not set/);
  } finally {
    await driver.quit();
    await waitForExit();
  }
});

test('settings: the endpoint address, a masked token, copy and rotate', async () => {
  // A free port, so the test never depends on 8737 being free.
  const driver = await launch(['--addr', '127.0.0.1:0']);
  try {
    await stateOf(driver, 'demo', 'running');
    await driver.findElement(By.css('[data-view="settings"]')).click();
    const url = await driver.wait(until.elementLocated(By.css('#settings .gateway-url')), 10_000);
    await driver.wait(async () => /^http:\/\/127\.0\.0\.1:\d+\/mcp$/.test((await url.getText()).trim()), 10_000,
      'the endpoint URL never showed');
    const shown = (await url.getText()).trim();
    const cli = () => JSON.parse(execFileSync(gatehouse, ['token', 'show', '--json'], { encoding: 'utf8' }));
    const before = cli();
    assert.equal(before.url, shown, 'the window shows the address the endpoint listens on');

    // Only the ends of the token are ever in the window.
    const hint = await driver.findElement(By.css('#settings .token-hint'));
    const masked = (await hint.getText()).trim();
    assert.equal(masked, `${before.token.slice(0, 4)}…${before.token.slice(-4)}`);
    const page = await driver.executeScript('return document.body.textContent');
    assert.ok(!page.includes(before.token), 'the whole token is nowhere in the page');

    await driver.findElement(By.css('#settings .action-copy-token')).click();
    await driver.wait(async () => /Copied/.test(await driver.executeScript('return document.body.textContent')),
      5_000, 'no confirmation after copying');
    await screenshot(driver, 'settings');

    await driver.findElement(By.css('#settings .action-rotate-token')).click();
    const confirm = await driver.wait(until.elementLocated(By.css('#settings .action-confirm-rotate')), 5_000);
    await screenshot(driver, 'settings-rotate');
    await confirm.click();
    await driver.wait(async () => (await hint.getText()).trim() !== masked, 10_000, 'the hint never changed');
    const after = cli();
    assert.notEqual(after.token, before.token, 'the running Gatehouse uses a new token');
    assert.equal((await hint.getText()).trim(), `${after.token.slice(0, 4)}…${after.token.slice(-4)}`);
  } finally {
    await driver.quit();
    await waitForExit();
  }
});

/** Calls `tool` through the endpoint with the Python SDK; resolves to {isError, text} when the call returns. */
function callTool(endpoint, tool, args) {
  const python = path.join(root, '.tools/venv/bin/python');
  const script = path.join(root, 'tests/e2e/call_tool.py');
  return new Promise((resolve, reject) => {
    execFile(python, [script, endpoint.url, endpoint.token, tool, JSON.stringify(args)], { timeout: 120_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${tool} failed: ${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout))));
  });
}

/** The log rows, newest first, as `gatehouse log --json` prints them. */
function logRows() {
  return JSON.parse(execFileSync(gatehouse, ['log', '--json'], { encoding: 'utf8' }));
}

function pendingCalls() {
  return JSON.parse(execFileSync(gatehouse, ['approvals', '--pending', '--json'], { encoding: 'utf8' }));
}

/** Waits for the approval dialog, switches the session to it and returns the call it shows. */
async function approvalDialog(driver, mainHandle) {
  let handle;
  await driver.wait(async () => {
    handle = (await driver.getAllWindowHandles()).find((h) => h !== mainHandle);
    return handle !== undefined;
  }, 20_000, 'the approval dialog never opened');
  await driver.switchTo().window(handle);
  return driver.wait(until.elementLocated(By.css('.approval-current')), 10_000);
}

/** Waits until the approval dialog has closed (nothing waits any more) and switches back to the main window. */
async function dialogClosed(driver, mainHandle) {
  await driver.wait(async () => (await driver.getAllWindowHandles()).length === 1, 10_000,
    'the approval dialog stayed open with nothing waiting');
  await driver.switchTo().window(mainHandle);
}

/** Clicks an answer button in the dialog. The dialog closes once nothing
 * waits, which may race the click's own reply: the caller checks the effect. */
async function answer(driver, selector) {
  try {
    await driver.findElement(By.css(selector)).click();
  } catch (err) {
    if (err.name !== 'NoSuchWindowError') throw err;
  }
}

async function addNote(endpoint, title) {
  const added = await callTool(endpoint, 'demo__add_note', { title, body: 'from the e2e test' });
  assert.equal(added.isError, false, added.text);
  return Number(/added note (\d+)/.exec(added.text)[1]);
}

test('approvals: the dialog asks before delete_note; Deny, Allow once and Always allow do what they say', async () => {
  const driver = await launch(['--addr', '127.0.0.1:0']);
  try {
    await stateOf(driver, 'demo', 'running');
    const main = await driver.getWindowHandle();
    const endpoint = JSON.parse(execFileSync(gatehouse, ['token', 'show', '--json'], { encoding: 'utf8' }));

    // Read-only and non-destructive calls never ask.
    const first = await addNote(endpoint, 'keep me');
    const read = await callTool(endpoint, 'demo__read_note', { id: first });
    assert.equal(read.isError, false, read.text);
    assert.match(read.text, /keep me/);
    assert.equal((await driver.getAllWindowHandles()).length, 1, 'no dialog for read_note');

    // Deny: the model gets an isError sentence, the note survives, the log says "dialog".
    let pending = callTool(endpoint, 'demo__delete_note', { id: first });
    let current = await approvalDialog(driver, main);
    const shown = await current.getText();
    assert.match(shown, /delete_note/);
    assert.match(shown, /destructive/i);
    await screenshot(driver, 'approval-dialog');
    const client = await driver.executeScript(
      "return document.querySelector('.approval-client').textContent");
    assert.match(client, /mcp/, 'the dialog names the client that asked');
    await answer(driver, '.action-deny');
    let result = await pending;
    assert.equal(result.isError, true);
    assert.match(result.text, /The user denied this call/);
    let [row] = logRows();
    assert.deepEqual([row.tool, row.decision, row.decided_by, row.outcome], ['delete_note', 'denied', 'dialog', 'not_run']);
    assert.match((await callTool(endpoint, 'demo__read_note', { id: first })).text, /keep me/);

    // Allow once: forwarded (the note is gone), and the next call asks again.
    await dialogClosed(driver, main);
    pending = callTool(endpoint, 'demo__delete_note', { id: first });
    await approvalDialog(driver, main);
    await answer(driver, '.action-allow-once');
    result = await pending;
    assert.equal(result.isError, false, result.text);
    assert.match(result.text, /deleted note/);
    [row] = logRows();
    assert.deepEqual([row.decision, row.decided_by, row.outcome], ['allowed', 'dialog', 'ok']);

    // Always allow: this call and the next run; the next one without a dialog.
    await dialogClosed(driver, main);
    const second = await addNote(endpoint, 'second');
    const third = await addNote(endpoint, 'third');
    pending = callTool(endpoint, 'demo__delete_note', { id: second });
    await approvalDialog(driver, main);
    await answer(driver, '.action-allow-always');
    result = await pending;
    assert.equal(result.isError, false, result.text);
    await dialogClosed(driver, main);
    result = await callTool(endpoint, 'demo__delete_note', { id: third });
    assert.equal(result.isError, false, result.text);
    assert.deepEqual(pendingCalls(), []);
    [row] = logRows();
    assert.deepEqual([row.decision, row.decided_by, row.outcome], ['allowed', 'rule', 'ok']);

    // The Activity view shows the log, and verifies it.
    await driver.findElement(By.css('[data-view="activity"]')).click();
    await driver.wait(until.elementLocated(By.css('tr.activity-row')), 10_000);
    // textContent: WebKitWebDriver's visible-text heuristic misses table cells.
    const decidedBy = () => driver.executeScript(
      "return [...document.querySelectorAll('tr.activity-row .cell-decided-by')].map((c) => c.textContent.trim())");
    await driver.wait(async () => (await decidedBy()).includes('dialog'), 10_000,
      'no row decided in the dialog');
    // Deny, allow once and always allow: three answers from the dialog.
    await driver.wait(async () => (await decidedBy()).filter((by) => by === 'dialog').length === 3, 10_000,
      'the Activity view does not show the three answers given in the dialog');
    await driver.findElement(By.css('.action-verify')).click();
    const verdict = await driver.wait(until.elementLocated(By.css('.verify-result')), 10_000);
    await driver.wait(async () => (await verdict.getAttribute('data-ok')) === 'true', 10_000, 'verify did not pass');
    await screenshot(driver, 'activity');

    // The tool's policy, set from the Servers view, applies to the next call.
    await driver.findElement(By.css('[data-view="servers"]')).click();
    await driver.findElement(By.css('[data-server="demo"] button')).click();
    const select = await driver.wait(until.elementLocated(By.css('select.tool-policy[data-tool="read_note"]')), 10_000);
    await select.findElement(By.css('option[value="deny"]')).click();
    await driver.wait(async () => /read_note = "deny"/.test(readFileSync(path.join(home, 'gatehouse.toml'), 'utf8')),
      10_000, 'the rule never reached gatehouse.toml');
    result = await callTool(endpoint, 'demo__read_note', { id: first });
    assert.equal(result.isError, true);
    assert.match(result.text, /policy denies/);
    await screenshot(driver, 'servers-policy');
  } finally {
    await driver.quit();
    await waitForExit();
  }
});

test('clients: the Clients view shows each client, registers Cursor after showing the diff, and refuses a broken file', async () => {
  const userHome = process.env.HOME;
  // Cursor is installed and has a server of its own; Claude Desktop's file is broken.
  const cursorFile = path.join(userHome, '.cursor', 'mcp.json');
  mkdirSync(path.dirname(cursorFile), { recursive: true });
  const github = { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'] };
  writeFileSync(cursorFile, JSON.stringify({ mcpServers: { github } }, null, 2) + '\n');
  const claudeFile = path.join(userHome, '.config', 'Claude', 'claude_desktop_config.json');
  mkdirSync(path.dirname(claudeFile), { recursive: true });
  const broken = '{\n  "mcpServers": {\n    "fs": { "command": "npx" },\n  }\n}\n';
  writeFileSync(claudeFile, broken);

  const driver = await launch(['--addr', '127.0.0.1:0']);
  try {
    await stateOf(driver, 'demo', 'running');
    await driver.findElement(By.css('[data-view="clients"]')).click();
    const cursor = await driver.wait(until.elementLocated(By.css('[data-client="cursor"]')), 10_000);
    assert.equal(await cursor.getAttribute('data-installed'), 'true');
    const claude = await driver.findElement(By.css('[data-client="claude-desktop"] [data-scope="user"]'));
    assert.equal(await claude.getAttribute('data-state'), 'unreadable');
    assert.match(await claude.getText(), /line 3, column 31: Trailing commas are not allowed/);
    await screenshot(driver, 'clients');

    await cursor.findElement(By.css('[data-scope="user"] [data-action="register"]')).click();
    const confirm = await driver.wait(until.elementLocated(By.css('[data-client="cursor"] .action-confirm')), 10_000);
    const { token, url } = JSON.parse(execFileSync(gatehouse, ['token', 'show', '--json'], { encoding: 'utf8' }));
    const diff = await driver.executeScript(
      "return [...document.querySelectorAll('[data-client=\"cursor\"] .line')].map((l) => l.textContent).join('\\n')");
    assert.match(diff, /\+\s+"gatehouse": \{/);
    assert.match(diff, /Bearer \*\*\*\*/);
    assert.ok(!diff.includes(token), 'the token is masked in the diff');
    assert.equal(readFileSync(cursorFile, 'utf8').includes('gatehouse'), false, 'nothing is written before Confirm');
    await screenshot(driver, 'clients-review');
    await confirm.click();

    await driver.wait(async () => (await driver.findElement(By.css('[data-client="cursor"] [data-scope="user"]'))
      .getAttribute('data-state')) === 'registered', 10_000, 'Cursor never showed as registered');
    const written = JSON.parse(readFileSync(cursorFile, 'utf8'));
    assert.deepEqual(written.mcpServers.github, github, 'the other server is kept');
    assert.deepEqual(written.mcpServers.gatehouse, { url, headers: { Authorization: `Bearer ${token}` } });
    const page = await driver.executeScript('return document.body.textContent');
    assert.ok(!page.includes(token), 'the token is nowhere in the page');
    assert.equal(readFileSync(claudeFile, 'utf8'), broken, 'the broken file is untouched');
    await screenshot(driver, 'clients-registered');
  } finally {
    await driver.quit();
    await waitForExit();
  }
});
