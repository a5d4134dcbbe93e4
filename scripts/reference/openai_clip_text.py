"""OpenAI's CLIP text transformer and BPE tokenizer (github:openai/CLIP, `clip/model.py` and
`clip/simple_tokenizer.py`, run unmodified) behind the small part of transformers' `CLIPTextModel` /
`CLIPTokenizer` interface that Diffusers' Stable Diffusion pipelines call.

- `ClipTextEncoder.from_transformers(state_dict, config)`: CLIP's `Transformer` (with its causal
  mask), token and positional embeddings and `ln_final`, loaded from weights under transformers'
  names (q/k/v concatenated back into `in_proj`). `forward(ids, attention_mask=None,
  output_hidden_states=False)` returns `(last_hidden_state, pooler_output, hidden_states)`:
  hidden_states[0] is the embedding output, hidden_states[i] the output of layer i (before
  `ln_final`), as transformers returns them; `text_model.final_layer_norm` is `ln_final` (clip skip).
- `ClipTokenizer(clip_root)`: `SimpleTokenizer` (the real `bpe_simple_vocab_16e6` vocabulary) making
  `[BOS] + bpe + [EOS]`, truncated to 77 keeping EOS, padded with EOS (SD 1.x). ftfy is not
  installed: `fix_text` is the identity, so prompts must avoid text ftfy would change.
"""

import importlib.util
import os
import sys
import types

import torch

BOS, EOS, CONTEXT = 49406, 49407, 77


def _load(clip_root, name):
    path = os.path.join(clip_root, 'clip', name + '.py')
    spec = importlib.util.spec_from_file_location('openai_clip_' + name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _clip_modules(clip_root):
    # ftfy stands in only while simple_tokenizer imports it (Diffusers later probes for the real one).
    absent = 'ftfy' not in sys.modules
    if absent:
        ftfy = types.ModuleType('ftfy')
        ftfy.fix_text = lambda text: text
        sys.modules['ftfy'] = ftfy
    try:
        return _load(clip_root, 'model'), _load(clip_root, 'simple_tokenizer')
    finally:
        if absent:
            del sys.modules['ftfy']


class _Config:
    def __init__(self, values):
        self.__dict__.update(values)


class ClipTextEncoder(torch.nn.Module):
    def __init__(self, clip_root, config):
        super().__init__()
        model, _ = _clip_modules(clip_root)
        width, layers, heads = config['hidden_size'], config['num_hidden_layers'], config['num_attention_heads']
        if config.get('hidden_act', 'quick_gelu') != 'quick_gelu' or config['intermediate_size'] != 4 * width:
            raise SystemExit("OpenAI's CLIP text transformer has quick_gelu and a 4x MLP only")
        context = config['max_position_embeddings']
        mask = torch.empty(context, context).fill_(float('-inf')).triu_(1)  # CLIP.build_attention_mask
        self.transformer = model.Transformer(width, layers, heads, mask)
        self.token_embedding = torch.nn.Embedding(config['vocab_size'], width)
        self.positional_embedding = torch.nn.Parameter(torch.empty(context, width))
        self.ln_final = model.LayerNorm(width)
        self.text_model = types.SimpleNamespace(final_layer_norm=self.ln_final)
        self.config = _Config({key: value for key, value in config.items() if key != 'use_attention_mask'})

    @property
    def dtype(self):
        return self.positional_embedding.dtype

    @property
    def device(self):
        return self.positional_embedding.device

    @classmethod
    def from_transformers(cls, clip_root, config, weights):
        encoder = cls(clip_root, config)
        state = {
            'token_embedding.weight': weights['text_model.embeddings.token_embedding.weight'],
            'positional_embedding': weights['text_model.embeddings.position_embedding.weight'],
            'ln_final.weight': weights['text_model.final_layer_norm.weight'],
            'ln_final.bias': weights['text_model.final_layer_norm.bias'],
        }
        for i in range(config['num_hidden_layers']):
            source, target = f'text_model.encoder.layers.{i}.', f'transformer.resblocks.{i}.'
            for kind in ('weight', 'bias'):
                state[target + 'attn.in_proj_' + kind] = torch.cat(
                    [weights[f'{source}self_attn.{p}_proj.{kind}'] for p in ('q', 'k', 'v')], 0
                )
                state[target + 'attn.out_proj.' + kind] = weights[source + 'self_attn.out_proj.' + kind]
                state[target + 'ln_1.' + kind] = weights[source + 'layer_norm1.' + kind]
                state[target + 'ln_2.' + kind] = weights[source + 'layer_norm2.' + kind]
                state[target + 'mlp.c_fc.' + kind] = weights[source + 'mlp.fc1.' + kind]
                state[target + 'mlp.c_proj.' + kind] = weights[source + 'mlp.fc2.' + kind]
        encoder.load_state_dict(state, strict=True)
        return encoder.eval()

    def forward(self, input_ids, attention_mask=None, output_hidden_states=False):
        if attention_mask is not None:
            raise SystemExit('attention masks are not used by the SD 1.x text encoder')
        x = self.token_embedding(input_ids) + self.positional_embedding  # CLIP.encode_text
        x = x.permute(1, 0, 2)  # NLD -> LND
        hidden_states = [x.permute(1, 0, 2)]
        for block in self.transformer.resblocks:
            x = block(x)
            hidden_states.append(x.permute(1, 0, 2))
        last = self.ln_final(hidden_states[-1])
        pooled = last[torch.arange(last.shape[0]), input_ids.argmax(dim=-1)]
        return last, pooled, tuple(hidden_states) if output_hidden_states else None


class _Encoded:
    def __init__(self, input_ids):
        self.input_ids = input_ids


class ClipTokenizer:
    model_max_length = CONTEXT
    added_tokens_encoder = {}  # no textual-inversion tokens (Diffusers' maybe_convert_prompt reads it)

    def __init__(self, clip_root):
        _, simple_tokenizer = _clip_modules(clip_root)
        self.bpe = simple_tokenizer.SimpleTokenizer()

    def tokenize(self, prompt):
        return [self.bpe.decoder[token] for token in self.bpe.encode(prompt)]

    def ids(self, prompt):
        return [BOS] + self.bpe.encode(prompt) + [EOS]

    def __call__(self, prompts, padding='max_length', max_length=None, truncation=False, return_tensors='pt'):
        prompts = [prompts] if isinstance(prompts, str) else list(prompts)
        rows = [self.ids(prompt) for prompt in prompts]
        if truncation:
            limit = max_length or CONTEXT
            rows = [row if len(row) <= limit else row[: limit - 1] + [EOS] for row in rows]
        length = (max_length or CONTEXT) if padding == 'max_length' else max(len(row) for row in rows)
        rows = [row + [EOS] * (length - len(row)) for row in rows]
        return _Encoded(torch.tensor(rows, dtype=torch.long))

    def batch_decode(self, rows):
        return [self.bpe.decode([int(i) for i in row]) for row in rows]
