// Every data set the pipeline uses: its folder under $NANOCHAT_BASE_DIR/data, its files (with the
// sizes and sha256 of ./checksums.ts), its license and where each file comes from upstream.
//
// The folder layout is the layout of the reference copy (../shared/data; its README documents
// every file's origin and format). A NANOCHAT_DATA_MIRROR (folder or http(s) URL) has that layout
// too. Without a mirror each file is fetched from its public upstream: byte-identical copies are
// downloaded as they are; a few need a small conversion (see ./convert.ts); files that we rebuilt
// with heavy, unshipped conversions (OpenStax CNXML -> text, the chat sets, two CORE tasks) say so,
// and the error for them suggests NANOCHAT_DATA_MIRROR.

import { CHECKSUMS } from './checksums.js';
import type { Conversion } from './convert.js';

export interface DataFile {
  /** Path inside the set's folder, '/'-separated. */
  path: string;
  size: number;
  sha256: string;
  /** For .gz files: the uncompressed content (lets a re-compressed rebuild verify; see checksums.ts). */
  content?: { size: number; sha256: string };
}

/** Where one file comes from without a mirror. */
export type Upstream = { url: string; convert?: Conversion } | { unavailable: string };

export interface DataSet {
  name: string;
  summary: string;
  license: string;
  /** Pretraining text shards: listShards/readShards can read the folder; splitShards says which documents validate. */
  shards?: boolean;
  files: DataFile[];
  upstream(path: string): Upstream;
}

const GITHUB_RAW = 'https://raw.githubusercontent.com';
const gh = (repo: string, commit: string, path: string): string => `${GITHUB_RAW}/${repo}/${commit}/${path}`;
const noUpstream = (why: string) => (): Upstream => ({ unavailable: why });

/** The files of a set, from the checksum table (entries `<set>/<path>`). */
function filesOf(set: string): DataFile[] {
  const files: DataFile[] = [];
  for (const [key, c] of Object.entries(CHECKSUMS)) {
    if (!key.startsWith(set + '/')) continue;
    files.push({ path: key.slice(set.length + 1), size: c[0], sha256: c[1], ...(c.length === 4 ? { content: { size: c[2], sha256: c[3] } } : {}) });
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

// Upstream repositories and commits, as named in ../shared/data/README.md and manifest.json.
const GSM8K = { repo: 'openai/grade-school-math', commit: '3101c7d5072418e28b9008a6636bde82a006892c' };
const HUMANEVAL = { repo: 'openai/human-eval', commit: '6d43fb980f9fee3c892a914eda09951f772ad10d' };
const MMLU = { repo: 'HaeChan0305/MLILAB-FedLLM', commit: 'd92730e8bacd7b3a61e551e015e40588e10234b4' };
const ARC_EASY = { repo: 'Youssef-Malek2004/CoT-Unfaithfulness-Induction-Via-SDF', commit: '3ebea6a1e718fa77dded92f29310786e4ff8bf18' };
const ARC_CHALLENGE = { repo: 'LzyFischer/icml_kd', commit: '30f6ce59d478ce4ad1c53dd1f4195d97cb29c530' };
const LLM_FOUNDRY = { repo: 'mosaicml/llm-foundry', commit: '8c8dd48f72168c5d51e2f7b151595892a8fba43d' };
const DCLM = { repo: 'mlfoundations/dclm', commit: '361714bdd60bb9b7f4b2d8354cebbf0dec0c329e' };
const WORDS = { repo: 'dwyl/english-words', commit: '20f5cc9b3f0ccc8ce45d814c532b7c2031bba31c' };

const MIRROR_HINT = 'set NANOCHAT_DATA_MIRROR to a folder or URL laid out like the reference data (e.g. ../shared/data)';

export const DATASETS: readonly DataSet[] = [
  {
    name: 'pretrain_openstax',
    summary: '25 OpenStax textbooks as plain text (4,184 docs, 65 M chars), jsonl.gz shards; pretraining and tokenizer training',
    license: 'CC BY 4.0 / CC BY-NC-SA 4.0 per record (see manifest.json)',
    shards: true,
    files: filesOf('pretrain_openstax'),
    // Built from the CNXML modules of 25 openstax/osbooks-* repositories (repo and commit per file
    // in manifest.json): MathML linearisation, module selection and dedup are not shipped here.
    upstream: noUpstream('converted from the CNXML sources of 25 openstax/osbooks-* repositories (repo and commit per shard in manifest.json); that conversion is not shipped'),
  },
  {
    name: 'pretrain_web_samples',
    summary: 'tiny C4 (300 docs) and Wikipedia (30 articles) samples, jsonl.gz; tokenizer eval and held-out loss',
    license: 'ODC-BY 1.0 (C4), CC BY-SA (Wikipedia)',
    shards: true,
    files: filesOf('pretrain_web_samples'),
    upstream: noUpstream('rebuilt from hiyouga/LLaMA-Factory data/c4_demo.jsonl and data/wiki_demo.txt (commit ff6d4d12eeb035d6ce06805a5733dd7b29f2ac30) into gzipped {"text"} records; that conversion is not shipped'),
  },
  {
    name: 'gsm8k',
    summary: 'GSM8K grade-school math: train 7,473, test 1,319 (jsonl)',
    license: 'MIT',
    files: filesOf('gsm8k'),
    upstream: (path) => ({ url: gh(GSM8K.repo, GSM8K.commit, path === 'LICENSE' ? 'LICENSE' : `grade_school_math/data/${path}`) }),
  },
  {
    name: 'mmlu',
    summary: 'MMLU, 57 subjects: test 14,042 and dev 285 rows (csv per subject)',
    license: 'MIT',
    files: filesOf('mmlu'),
    upstream: (path) => ({ url: gh(MMLU.repo, MMLU.commit, `data/mmlu/${path}`) }),
  },
  {
    name: 'arc',
    summary: 'AI2 ARC: Easy train/validation/test, Challenge test and a train subset (jsonl)',
    license: 'CC BY-SA 4.0',
    files: filesOf('arc'),
    upstream: (path) => {
      // ARC-Easy upstream is one JSON array per split; ARC-Challenge upstream is jsonl with two
      // extra fields that repo added. Both become jsonl in the HF field order, Python-json style.
      const m = /^ARC-Easy\/(train|validation|test)\.jsonl$/.exec(path);
      if (m) return { url: gh(ARC_EASY.repo, ARC_EASY.commit, `data/arc_easy/${m[1]}.json`), convert: { kind: 'json-array-to-jsonl' } };
      const source = path === 'ARC-Challenge/test.jsonl' ? 'test.jsonl' : path === 'ARC-Challenge/train_subset.jsonl' ? 'train.jsonl' : undefined;
      if (source) return { url: gh(ARC_CHALLENGE.repo, ARC_CHALLENGE.commit, `data/arc_challenge/${source}`), convert: { kind: 'jsonl-drop-fields', fields: ['answer', 'response'] } };
      return { unavailable: `no upstream known for arc/${path}` };
    },
  },
  {
    name: 'humaneval',
    summary: 'HumanEval: 164 Python problems with tests (jsonl.gz)',
    license: 'MIT',
    files: filesOf('humaneval'),
    upstream: (path) => ({ url: gh(HUMANEVAL.repo, HUMANEVAL.commit, path === 'LICENSE' ? 'LICENSE' : `data/${path}`) }),
  },
  {
    name: 'core',
    summary: 'CORE metric: core.yaml, random baselines (eval_meta_data.csv) and 21 of 22 task files (eval_data/**)',
    license: 'Apache-2.0 (llm-foundry), MIT (DCLM); each task keeps its own license (EVAL_GAUNTLET.md)',
    files: filesOf('core'),
    upstream: (path) => {
      if (path.startsWith('eval_data/')) {
        if (path.endsWith('.gz')) {
          return { unavailable: 'rebuilt by us (hellaswag from klosax/hellaswag_text_data, squad from the SQuAD explorer pages); that conversion is not shipped' };
        }
        return { url: gh(LLM_FOUNDRY.repo, LLM_FOUNDRY.commit, `scripts/eval/local_data/${path.slice('eval_data/'.length)}`) };
      }
      switch (path) {
        case 'EVAL_GAUNTLET.md': return { url: gh(LLM_FOUNDRY.repo, LLM_FOUNDRY.commit, 'scripts/eval/local_data/EVAL_GAUNTLET.md') };
        case 'LICENSE.llm-foundry': return { url: gh(LLM_FOUNDRY.repo, LLM_FOUNDRY.commit, 'LICENSE') };
        case 'dclm_heavy.yaml': return { url: gh(DCLM.repo, DCLM.commit, 'eval/heavy.yaml') };
        case 'dclm_additional_aggregation.json': return { url: gh(DCLM.repo, DCLM.commit, 'eval/additional_aggregation.json') };
        // DCLM's table with three random baselines set to the eval bundle's (README: "Note on CORE random baselines").
        case 'eval_meta_data.csv': return {
          url: gh(DCLM.repo, DCLM.commit, 'eval/eval_meta_data.csv'),
          convert: { kind: 'csv-set-column', column: 'Random baseline', values: { commonsense_qa: '20', agi_eval_lsat_ar: '20', bigbench_language_identification: '9.1' } },
        };
        default: return { unavailable: 'written by us from DCLM eval/heavy.yaml and eval/additional_aggregation.json; not generated here' };
      }
    },
  },
  {
    name: 'sft',
    summary: 'chat / instruction conversations in the {"messages": [...]} format (9 jsonl files, about 9.2 k conversations)',
    license: 'varies per file, several non-commercial (see ../shared/data/README.md)',
    files: filesOf('sft'),
    upstream: noUpstream('converted from several repositories\' alpaca/sharegpt-style files into {"messages"} records; those conversions are not shipped'),
  },
  {
    name: 'english_words',
    summary: 'dwyl words_alpha: 370,098 lowercase English words (txt.gz); spelling tasks',
    license: 'Unlicense (public domain)',
    files: filesOf('english_words'),
    upstream: (path) =>
      path === 'words_alpha.txt.gz'
        ? { url: gh(WORDS.repo, WORDS.commit, 'words_alpha.zip'), convert: { kind: 'zip-entry-gzip', entry: 'words_alpha.txt' } }
        : { url: gh(WORDS.repo, WORDS.commit, path) },
  },
];

/** A set by name, or undefined. */
export function findDataset(name: string, sets: readonly DataSet[] = DATASETS): DataSet | undefined {
  return sets.find((d) => d.name === name);
}

export { MIRROR_HINT };
