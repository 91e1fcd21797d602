"""One Streamlit page script per file (run by `st.navigation`, not imported)."""
