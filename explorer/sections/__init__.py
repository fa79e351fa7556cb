"""One module per part of the page: each tab (its label and link name in explorer/tabs.py), the
sidebar, the tour, the class board, the banner while a model trains. No section imports
another: what two of them share lives below them (explorer/lenses.py, latent_view.py,
class_board.py, model_requests.py, ...)."""
