"""Reference tokenizations for @diffusion-ts/tokenizers' CLIPTokenizer, made by transformers' own CLIPTokenizer.

Usage (Debian's python3 with python3-regex; ftfy must be absent, as it is for most SD users):

    /usr/bin/python3 scripts/reference/clip_tokenizer_cases.py \
        --transformers DIR --clip DIR \
        --tokenizer fixtures/diffusers/clip_text_small/tokenizer \
        --out fixtures/diffusers/clip_tokenizer_cases.json

--transformers DIR holds transformers' files at these commits (the repository is too large to clone whole
here; the two files are enough):
    src/transformers/models/clip/tokenization_clip.py      commit 01f287b3d817b48b7bf61c408b269e3c93a24c97
    src/transformers/tokenization_utils.py                 commit 0030ccfba87223b1719d73caf94191bc61692557
        (only `_is_whitespace`, `_is_control` and `_is_punctuation` are taken from it, with `ast`)
--clip DIR is a checkout of github:openai/CLIP (commit d05afc4); its clip/simple_tokenizer.py runs too,
to record where OpenAI's original tokenizer differs (it html-unescapes and runs ftfy; ftfy is absent
here and stands in as the identity, so ftfy's own repairs are not covered).

What runs unmodified: transformers' `CLIPTokenizer` (text clean-up through its `BasicTokenizer`, the
byte-level BPE, `_tokenize`, `build_inputs_with_special_tokens`, `convert_tokens_to_string`) and OpenAI's
`SimpleTokenizer`. What stands in for transformers' `PreTrainedTokenizer` base class (tokenization_utils
pulls in the whole library) is the small `BaseTokenizer` below, which does what the base class does for a
CLIP call `tokenizer(text, padding="max_length", max_length=77, truncation=True)`:
- special tokens (bos, eos, unk, pad) are never split: the text is cut at their occurrences (leftmost,
  longest first; `AddedToken(lstrip=False, rstrip=False)`, so no whitespace is stripped around them) and
  only the pieces between go through `_tokenize`;
- tokens become ids through `_convert_token_to_id` (the unk id for unknown tokens);
- truncation keeps the first `max_length - 2` ids (room for bos and eos, truncation_side "right"), then
  `build_inputs_with_special_tokens` adds them, then padding "max_length" appends `pad_token_id` on the
  right; `attention_mask` is 1 for every id before the padding;
- `decode` converts ids with `_convert_id_to_token` (dropping ids of special tokens when
  `skip_special_tokens`) and joins them with `convert_tokens_to_string` (no added non-special tokens
  exist, so there is one chunk), without `clean_up_tokenization_spaces`.
"""

import argparse
import ast
import hashlib
import importlib.util
import json
import os
import sys
import types
import unicodedata

PROVENANCE_TRANSFORMERS = {
    'tokenization_clip.py': '01f287b3d817b48b7bf61c408b269e3c93a24c97',
    'tokenization_utils.py (character classes)': '0030ccfba87223b1719d73caf94191bc61692557',
}

# --- prompts -------------------------------------------------------------------------------------------------

LONG_PROMPT = ' '.join(['a highly detailed photograph of a red fox in the snow'] * 9)
PROMPTS = [
    # plain prompts
    'an oil painting of a lighthouse at dusk',
    'a photo of an astronaut riding a horse on mars',
    'portrait of a woman, studio lighting, 85mm, f/1.8',
    # empty and whitespace only
    '',
    '   ',
    '\t\n\r ',
    # case and whitespace clean-up
    'UPPER lower MiXeD',
    '  leading and trailing spaces  ',
    'tabs\tand\nnewlines\r\nand  double  spaces',
    'no\u00a0break\u3000ideographic\u2003em spaces',
    'line\u2028separator and paragraph\u2029separator',
    # punctuation
    'Two cats, one dog!',
    'question? answer. exclamation!!! ellipsis...',
    '(masterpiece:1.2), [cat|dog], {curly}, <angle>',
    'email@example.com https://example.com/a_b-c?d=e&f=g#h',
    ':-) ;) :D <3 ^_^',
    '"quoted" \'single\' `backtick` \u201csmart\u201d \u2018quotes\u2019',
    # numbers
    '3 friends in 2024, 10,000 stars, 3.14, -5, $100, 50%',
    'SD-1.5 vs sdxl_1.0 and v2.1',
    '2+2=4, 7*6=42, x^2',
    # contractions (including the upper-case ones the pattern matches with IGNORECASE)
    "we're here, it's done, don't, I'm, you'll, they'd, we've",
    "WE'RE LOUD, IT'S, DON'T",
    "rock 'n' roll, 'tis, o'clock, rock'n'roll",
    # Unicode letters and accents
    'naïve résumé café',
    'cre\u0300me bru\u0302le\u0301e',  # combining accents: NFC composes them
    'Ölgemälde einer Straße, ﬁne ligature',
    'ΟΔΟΣ Σίσυφος ΣΟΦΟΣ',  # Greek final sigma on lower-casing
    'İstanbul ISTANBUL ı',
    'Москва ночью, улицы',
    'ＦＵＬＬＷＩＤＴＨ ｌｅｔｔｅｒｓ １２３',
    # CJK (BasicTokenizer puts spaces around ideographs, not around kana or hangul)
    '日本の猫と犬',
    'ひらがな カタカナ 한국어',
    # emoji, symbols, control and format characters
    'a cat 🐱 and a dog 🐶, 🎨✨',
    'artist 👩\u200d🎨 with zero\u200bwidth space',
    'control\x00chars\x07here\x1b and replacement \ufffd char',
    'soft\u00adhyphen and bidi\u202emarks',
    # special tokens in the text (never split; pad "!" is one for SD 2.x)
    'hello <|endoftext|> world <|startoftext|>',
    '<|EndOfText|> is lower-cased first',
    'wow!! amazing! "!"',
    # long words and long prompts (truncated at 77 with EOS kept)
    'supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis',
    'a' * 300,
    LONG_PROMPT,
    ' '.join(['cat'] * 75),
    ' '.join(['cat'] * 76),
    # html entities (transformers keeps them; OpenAI's tokenizer unescapes them)
    'salt &amp; pepper &lt;3 &#39;quoted&#39;',
]


# --- transformers' CLIPTokenizer with a stand-in base class -------------------------------------------------


class AddedToken(str):
    """transformers' AddedToken as CLIPTokenizer uses it: the token text, with its flags."""

    def __new__(cls, content, lstrip=False, rstrip=False, single_word=False, normalized=True, special=False):
        token = str.__new__(cls, content)
        token.content, token.lstrip, token.rstrip = content, lstrip, rstrip
        return token


class BaseTokenizer:
    """The parts of transformers' PreTrainedTokenizer a CLIP call uses (see the module docstring)."""

    def __init__(self, bos_token, eos_token, unk_token, pad_token, model_max_length=77, **kwargs):
        self.bos_token, self.eos_token, self.unk_token, self.pad_token = (str(t) for t in (bos_token, eos_token, unk_token, pad_token))
        self.model_max_length = model_max_length
        self.init_kwargs = kwargs
        self.added_tokens_encoder = {}

    @property
    def all_special_tokens(self):
        return list(dict.fromkeys([self.bos_token, self.eos_token, self.unk_token, self.pad_token]))

    @property
    def all_special_ids(self):
        return [self._convert_token_to_id(token) for token in self.all_special_tokens]

    def token_id(self, token):
        return self._convert_token_to_id(token)

    @property
    def bos_token_id(self):
        return self.token_id(self.bos_token)

    @property
    def eos_token_id(self):
        return self.token_id(self.eos_token)

    @property
    def pad_token_id(self):
        return self.token_id(self.pad_token)

    def split_special(self, text):
        specials = sorted(self.all_special_tokens, key=len, reverse=True)
        pieces, start, i = [], 0, 0
        while i < len(text):
            match = next((s for s in specials if text.startswith(s, i)), None)
            if match is None:
                i += 1
                continue
            if i > start:
                pieces.append(text[start:i])
            pieces.append(match)
            i += len(match)
            start = i
        if start < len(text):
            pieces.append(text[start:])
        return pieces

    def tokenize(self, text):
        tokens = []
        specials = set(self.all_special_tokens)
        for piece in self.split_special(text):
            tokens.extend([piece] if piece in specials else self._tokenize(piece))
        return tokens

    def __call__(self, text, max_length=None, truncation=True, padding='max_length'):
        max_length = max_length or self.model_max_length
        ids = [self._convert_token_to_id(token) for token in self.tokenize(text)]
        if truncation and len(ids) + 2 > max_length:
            ids = ids[: max_length - 2]
        ids = self.build_inputs_with_special_tokens(ids)
        mask = [1] * len(ids)
        if padding == 'max_length' and len(ids) < max_length:
            mask += [0] * (max_length - len(ids))
            ids += [self.pad_token_id] * (max_length - len(ids))
        return {'input_ids': ids, 'attention_mask': mask}

    def decode(self, ids, skip_special_tokens=False):
        special = set(self.all_special_ids)
        tokens = [self._convert_id_to_token(i) for i in ids if not (skip_special_tokens and i in special)]
        return self.convert_tokens_to_string(tokens)


def character_classes(path):
    """`_is_whitespace`, `_is_control`, `_is_punctuation` from transformers' tokenization_utils.py."""
    tree = ast.parse(open(path, encoding='utf-8').read())
    wanted = {'_is_whitespace', '_is_control', '_is_punctuation'}
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in wanted]
    if {f.name for f in functions} != wanted:
        raise SystemExit(f'{path} lacks one of {sorted(wanted)}')
    namespace = {'unicodedata': unicodedata}
    exec(compile(ast.Module(body=functions, type_ignores=[]), path, 'exec'), namespace)
    return {name: namespace[name] for name in wanted}


class NoFtfy:
    """Makes `import ftfy` fail, as on a machine without it (transformers then uses BasicTokenizer)."""

    def find_spec(self, name, path=None, target=None):
        if name == 'ftfy' or name.startswith('ftfy.'):
            raise ImportError('ftfy is not installed')
        return None


def load_transformers_clip(transformers_dir):
    sys.meta_path.insert(0, NoFtfy())
    utils_path = os.path.join(transformers_dir, 'src/transformers/tokenization_utils.py')
    clip_path = os.path.join(transformers_dir, 'src/transformers/models/clip/tokenization_clip.py')
    package = types.ModuleType('transformers')
    package.__path__ = []
    tokenization_utils = types.ModuleType('transformers.tokenization_utils')
    tokenization_utils.AddedToken = AddedToken
    tokenization_utils.PreTrainedTokenizer = BaseTokenizer
    tokenization_utils.__dict__.update(character_classes(utils_path))
    utils = types.ModuleType('transformers.utils')
    utils.logging = types.SimpleNamespace(get_logger=lambda name: types.SimpleNamespace(info=lambda *a: None, warning=lambda *a: None, error=lambda *a: None))
    for name, module in {
        'transformers': package,
        'transformers.tokenization_utils': tokenization_utils,
        'transformers.utils': utils,
        'transformers.models': types.ModuleType('transformers.models'),
        'transformers.models.clip': types.ModuleType('transformers.models.clip'),
    }.items():
        if not hasattr(module, '__path__'):
            module.__path__ = []
        sys.modules[name] = module
    spec = importlib.util.spec_from_file_location('transformers.models.clip.tokenization_clip', clip_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module, clip_path, utils_path


def load_openai_simple_tokenizer(clip_dir, tokenizer_dir):
    """OpenAI's SimpleTokenizer with its own bpe_simple_vocab_16e6.txt.gz (ftfy stands in as the identity)."""
    sys.modules['ftfy'] = types.SimpleNamespace(fix_text=lambda text: text)
    path = os.path.join(clip_dir, 'clip/simple_tokenizer.py')
    spec = importlib.util.spec_from_file_location('openai_simple_tokenizer', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    del sys.modules['ftfy']
    tokenizer = module.SimpleTokenizer()
    vocab = json.load(open(os.path.join(tokenizer_dir, 'vocab.json'), encoding='utf-8'))
    if tokenizer.encoder != vocab:
        raise SystemExit(f'{tokenizer_dir}/vocab.json is not the vocabulary OpenAI CLIP builds from its BPE file')
    return tokenizer, path


def sha256(path):
    return hashlib.sha256(open(path, 'rb').read()).hexdigest()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--transformers', required=True)
    parser.add_argument('--clip', required=True)
    parser.add_argument('--tokenizer', required=True)
    parser.add_argument('--out', required=True)
    args = parser.parse_args()

    clip_module, clip_path, utils_path = load_transformers_clip(args.transformers)
    vocab_file = os.path.join(args.tokenizer, 'vocab.json')
    merges_file = os.path.join(args.tokenizer, 'merges.txt')
    conventions = {
        'sd1': clip_module.CLIPTokenizer(vocab_file, merges_file, pad_token='<|endoftext|>', model_max_length=77),
        'sd2': clip_module.CLIPTokenizer(vocab_file, merges_file, pad_token='!', model_max_length=77),
    }
    if conventions['sd1'].fix_text is not None:
        raise SystemExit('ftfy was imported: the reference must use the BasicTokenizer path')
    openai, openai_path = load_openai_simple_tokenizer(args.clip, args.tokenizer)

    cases = []
    for prompt in PROMPTS:
        case = {'prompt': prompt}
        reference = conventions['sd1']
        case['tokens'] = reference.tokenize(prompt)
        for name, tokenizer in conventions.items():
            encoded = tokenizer(prompt, max_length=77, truncation=True, padding='max_length')
            case[name] = {
                'tokens': tokenizer.tokenize(prompt),
                'input_ids': encoded['input_ids'],
                'attention_mask': encoded['attention_mask'],
                'decoded': tokenizer.decode(encoded['input_ids']),
                'decoded_skip_special': tokenizer.decode(encoded['input_ids'], skip_special_tokens=True),
            }
        untruncated = reference(prompt, truncation=False, padding=None)['input_ids']
        case['untruncated_length'] = len(untruncated)
        openai_ids = openai.encode(prompt)
        case['openai_bpe_ids'] = openai_ids
        case['openai_matches_transformers'] = openai_ids == [reference._convert_token_to_id(t) for t in case['tokens']]
        cases.append(case)

    output = {
        'provenance': {
            'transformers': PROVENANCE_TRANSFORMERS,
            'tokenization_clip_sha256': sha256(clip_path),
            'openai_clip_simple_tokenizer': 'github:openai/CLIP clip/simple_tokenizer.py, sha256 ' + sha256(openai_path),
            'python': sys.version.split()[0],
            'regex_module': __import__('regex').__version__,
            'unicodedata': unicodedata.unidata_version,
            'ftfy': 'absent (transformers uses its BasicTokenizer clean-up; OpenAI ran with ftfy as the identity)',
            'generator': 'scripts/reference/clip_tokenizer_cases.py',
        },
        'vocabulary': 'fixtures/diffusers/clip_text_small/tokenizer (the real CLIP BPE, 49,408 tokens)',
        'conventions': {
            'sd1': 'pad_token "<|endoftext|>" (49407): Stable Diffusion 1.x',
            'sd2': 'pad_token "!" (0): Stable Diffusion 2.x; "!" is then a special token, never split, so a "!" in the text is id 0',
        },
        'call': 'tokenizer(prompt, padding="max_length", max_length=77, truncation=True)',
        'cases': cases,
    }
    # One case per line keeps the file small and diffable.
    header = json.dumps({key: value for key, value in output.items() if key != 'cases'}, ensure_ascii=False, indent=1)
    lines = ',\n'.join(json.dumps(case, ensure_ascii=False, separators=(',', ':')) for case in cases)
    with open(args.out, 'w', encoding='utf-8') as handle:
        handle.write(header[:-2] + ',\n "cases": [\n' + lines + '\n ]\n}\n')
    differing = [c['prompt'] for c in cases if not c['openai_matches_transformers']]
    print(f'{len(cases)} cases written to {args.out}; OpenAI differs on {len(differing)}: {differing}')


if __name__ == '__main__':
    main()
