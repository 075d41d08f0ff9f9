"""Pure decisions about one application: its state, the rules that refuse events, the
judgement of an evaluation, and its views. No database, no I/O, no Temporal: tested alone.
"""
