"""Entry point of the multi-language component package declared in PulumiPlugin.yaml."""

from mlops_platform.components.provider import main

if __name__ == "__main__":
    main()
