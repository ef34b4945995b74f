import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseYaml } from '../../src/eval/yaml.js';
import { MIRROR, needsMirror } from './mirror.js';

test('yaml: mappings, sequences, flow lists, quoted and plain scalars, comments', () => {
  const doc = parseYaml(`# a comment
name: demo   # trailing comment
count: 3
ratio: 0.5
on: true
empty:
quoted: "a\\nb: \\"c\\" # not a comment"
single: 'it''s'
list: [0, 10, "x"]
items:
-
  label: one
  shots: [0]
- label: two
  nested:
    deep: yes
plain list:
  - a
  - b
`);
  assert.deepEqual(doc, {
    name: 'demo',
    count: 3,
    ratio: 0.5,
    on: true,
    empty: null,
    quoted: 'a\nb: "c" # not a comment',
    single: "it's",
    list: [0, 10, 'x'],
    items: [{ label: 'one', shots: [0] }, { label: 'two', nested: { deep: 'yes' } }],
    'plain list': ['a', 'b'],
  });
});

test('yaml: unsupported constructs fail with a line number', () => {
  assert.throws(() => parseYaml('a: &anchor 1'), /line 1/);
  assert.throws(() => parseYaml('a: 1\na: 2'), /line 2: duplicate key/);
  assert.throws(() => parseYaml('a:\n\t- 1'), /tabs/);
  assert.throws(() => parseYaml('a: "unterminated'), /line 1/);
});

test('yaml: the real core.yaml', { skip: needsMirror('core/core.yaml') }, () => {
  const doc = parseYaml(readFileSync(`${MIRROR}/core/core.yaml`, 'utf8')) as { icl_tasks: Record<string, unknown>[] };
  assert.equal(doc.icl_tasks.length, 22);
  const jeopardy = doc.icl_tasks.find((t) => t.label === 'jeopardy')!;
  assert.deepEqual(jeopardy, {
    label: 'jeopardy',
    dataset_uri: 'world_knowledge/jeopardy_all.jsonl',
    num_fewshot: [10],
    icl_task_type: 'language_modeling',
    continuation_delimiter: '\nAnswer: ',
    has_categories: true,
  });
});
